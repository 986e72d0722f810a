"""report.html: a run's page rendered from its RunPage with jinja2 (autoescaping on, so every
cell, message and name from a source or a server reaches the page as text, never as markup),
written atomically beside the run's CSVs.

The page is one file: inline CSS, inline SVG charts, no script and nothing fetched, so it
opens offline, attached to a ticket, with JavaScript off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from crmsync.atomic import replacing
from crmsync.report.outcomes import STAGES
from crmsync.report.page.charts import Segment, Series, stacked_bars, time_series
from crmsync.report.page.model import PastRun, RunPage, StepPage, filled
from crmsync.report.summary import RunSummary
from crmsync.report.wording import counted

PAGE_FILE = "report.html"
TEMPLATE = "report.html.j2"
OUTCOME_SEGMENTS = (
    ("created", "created"),
    ("updated", "updated"),
    ("planned", "planned"),
    ("unchanged", "unchanged"),
    ("merged", "merged"),
    ("skipped", "skipped"),
)


def outcome_segments(summary: RunSummary) -> list[Segment]:
    """A step's rows by outcome, failures by stage."""
    segments = [Segment(label, css, getattr(summary, label)) for label, css in OUTCOME_SEGMENTS]
    for stage in STAGES:
        failed = summary.failed_by_stage.get(stage, 0)
        segments.append(Segment(f"failed ({stage})", f"failed-{stage}", failed))
    return segments


def _past_segments(counts: dict[str, int]) -> list[Segment]:
    segments = [Segment(label, css, counts.get(label, 0)) for label, css in OUTCOME_SEGMENTS]
    return [*segments, Segment("failed", "failed-validate", counts.get("failed", 0))]


def outcomes_chart(steps: list[StepPage]) -> Markup:
    bars = [(step.summary.name, outcome_segments(step.summary)) for step in steps]
    return stacked_bars("rows by outcome, per step", bars)


def load_charts(step: StepPage) -> list[Markup]:
    """records/s, requests in flight against their cap, latency percentiles, and 429s and
    retries against the pace the client kept: one chart each, over the load's seconds."""
    seconds = filled(step.load)
    if not seconds:
        return []
    width = seconds[1].second - seconds[0].second if len(seconds) > 1 else 1
    unit = "s" if width == 1 else f"s in buckets of {width} s"
    per_s = [s.records / width for s in seconds]
    return [
        time_series(
            "records settled per second",
            [Series("records/s", "records", per_s, bars=True)],
            x_label=unit,
        ),
        time_series(
            "requests in flight",
            [
                Series("most in flight", "inflight", [s.in_flight for s in seconds], bars=True),
                Series("cap", "cap", [s.limit or None for s in seconds]),
            ],
            x_label=unit,
        ),
        time_series(
            "latency (ms)",
            [
                Series("p50", "p50", [s.p50_ms for s in seconds]),
                Series("p95", "p95", [s.p95_ms for s in seconds]),
                Series("p99", "p99", [s.p99_ms for s in seconds]),
            ],
            x_label=unit,
        ),
        time_series(
            "429s and retries against the pace kept",
            [
                Series("429s", "r429", [s.rate_limited / width for s in seconds], bars=True),
                Series("retries", "retries", [s.retries / width or None for s in seconds]),
                Series("pace (requests/s)", "pace", [s.pace_rps for s in seconds]),
            ],
            x_label=unit,
        ),
    ]


def history_charts(history: list[PastRun]) -> list[Markup]:
    """The pipeline's last runs: rows by outcome, and records/s and p95 latency per run."""
    if len(history) < 2:
        return []
    bars = [(f"run {run.run_id}", _past_segments(run.counts)) for run in history]
    return [
        stacked_bars("rows by outcome, last runs", bars),
        time_series(
            "records/s and p95 latency (ms), last runs",
            [
                Series("records/s", "records", [r.figures.records_per_s or None for r in history]),
                Series("p95 ms", "p95", [r.figures.p95_ms for r in history]),
            ],
            x_label="runs",
        ),
    ]


def by_stage(failed: dict[str, int]) -> str:
    """'validate 2, resolve 1': the stages rows failed at, in the flow's order."""
    return ", ".join(f"{stage} {failed[stage]:,}" for stage in STAGES if failed.get(stage))


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = lambda value: "-" if value is None else f"{value:,}"
    env.filters["by_stage"] = by_stage
    env.filters["counted"] = counted
    return env


def render_page(page: RunPage) -> str:
    """The page's HTML."""
    template = _environment().get_template(TEMPLATE)
    context: dict[str, Any] = {
        "page": page,
        "stages": STAGES,
        "outcomes_chart": outcomes_chart(page.steps),
        "load_charts": {step.summary.name: load_charts(step) for step in page.steps},
        "history_charts": history_charts(page.history),
    }
    return template.render(**context)


def write_page(folder: Path, page: RunPage) -> Path:
    """Write report.html into `folder` (created if need be) atomically: a reader never sees
    half a page. Returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / PAGE_FILE
    text = render_page(page)
    with replacing(target) as out:
        out.write(text.encode("utf-8"))
    return target
