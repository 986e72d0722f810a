"""Alerts: what a healthy run looks like (`expect:`), and telling a person about a run that
needs one (`notify:`).

expect   a finished run's counts against the expectations: which it broke, with the figures
message  the alert: a Slack-compatible `text` and the run's structured summary
webhook  POSTing it, retried with backoff; its URL is a secret, never shown
"""

from crmsync.alerts.expect import Broken, broken_expectations
from crmsync.alerts.message import ALERT_EXIT_CODES, RunAlert, alert_body
from crmsync.alerts.webhook import WebhookError, send_webhook

__all__ = [
    "ALERT_EXIT_CODES",
    "Broken",
    "RunAlert",
    "WebhookError",
    "alert_body",
    "broken_expectations",
    "send_webhook",
]
