"""A run's alert, sent when the run needs a person (`notify:`), after the run has ended and
been recorded. Sending it never changes how the run ends: a webhook that cannot be reached
is said through the observer (`alert_failed`) and the exit code stands. Dry runs send none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import httpx

from crmsync.alerts import ALERT_EXIT_CODES, RunAlert, WebhookError, alert_body, send_webhook
from crmsync.api.http import redact
from crmsync.config import Pipeline
from crmsync.config.sources import RallyApiSource, RedmineApiSource
from crmsync.run.observer import RunObserver
from crmsync.state.location import url_password


def pipeline_secrets(pipeline: Pipeline) -> list[str]:
    """Every key and secret URL the file holds: none may reach an alert."""
    secrets = []
    api_key = getattr(pipeline.destination, "api_key", None)
    if api_key is not None and pipeline.destination_unset is None:  # else a stand-in
        secrets.append(api_key.get_secret_value())
    secrets += [t.api_key.get_secret_value() for t in pipeline.tenants.values() if t.api_key]
    for step in pipeline.steps:
        if isinstance(step.source, RallyApiSource | RedmineApiSource):
            secrets.append(step.source.api_key.get_secret_value())
    if pipeline.notify is not None:
        secrets.append(pipeline.notify.webhook.url.get_secret_value())
    if pipeline.state.url is not None:
        password = url_password(pipeline.state.url.get_secret_value())
        if password:
            secrets.append(password)
    return secrets


def send_alert(
    pipeline: Pipeline,
    alert: RunAlert,
    observer: RunObserver,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Send `alert` if the pipeline asks for alerts and the run needs a person; True when
    one was delivered."""
    notify = pipeline.notify
    if notify is None or alert.dry_run or alert.exit_code not in ALERT_EXIT_CODES:
        return False
    if alert.error:  # a crash's text may quote anything, a URL with its key among them
        alert = replace(alert, error=redact(alert.error, *pipeline_secrets(pipeline)))
    webhook = notify.webhook
    try:
        send_webhook(
            webhook.url.get_secret_value(),
            alert_body(alert),
            timeout_s=webhook.timeout_s,
            max_attempts=webhook.max_attempts,
            transport=transport,
            sleep=sleep,
        )
    except WebhookError as exc:
        observer.alert_failed(f"{exc}; the run's exit code stands")
        return False
    return True
