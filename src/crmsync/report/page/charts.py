"""Small SVG charts drawn by hand, inline in the page: stacked bars and time series.

Hand-built rather than from a plotting library: the page must open offline with no script
(altair and plotly draw with JavaScript, pygal's SVG loads its tooltips script from a CDN,
matplotlib's SVG carries every glyph as a path and takes a second to import), and the few
shapes the page needs fit in this module. Every text that goes into the SVG is escaped; the
numbers are also in the page's tables, the charts only show their shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 720
BAR_HEIGHT = 22
BAR_GAP = 8
LABEL_WIDTH = 170
SERIES_HEIGHT = 110
MARGIN = 36  # left axis labels of a time series
TOP = 24  # room for the chart's title
BOTTOM = 22
MAX_STEP = 24  # the widest a second (or a run) is drawn: a short load stays readable


@dataclass(frozen=True)
class Segment:
    """One part of a stacked bar: a label, its CSS class (its colour) and its value."""

    label: str
    css: str
    value: float


@dataclass(frozen=True)
class Series:
    """One line (or bars) of a time series; None values are gaps."""

    label: str
    css: str
    values: Sequence[float | None]
    bars: bool = False


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def stacked_bars(title: str, bars: Sequence[tuple[str, Sequence[Segment]]]) -> Markup:
    """One horizontal bar per (label, segments), each segment as wide as its share of the
    largest bar's total; a legend below names every segment class that appears."""
    largest = max((sum(s.value for s in segs) for _, segs in bars), default=0.0) or 1.0
    plot = WIDTH - LABEL_WIDTH - 60
    parts = []
    y: float = TOP
    seen: dict[str, str] = {}
    for label, segments in bars:
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR_HEIGHT * 0.7:.1f}" '
            f'text-anchor="end" class="label">{escape(label)}</text>'
        )
        x = float(LABEL_WIDTH)
        for seg in segments:
            if seg.value <= 0:
                continue
            width = seg.value / largest * plot
            seen.setdefault(seg.css, seg.label)
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{max(width, 1):.1f}" height="{BAR_HEIGHT}" '
                f'class="{escape(seg.css)}"><title>{escape(seg.label)}: '
                f"{_num(seg.value)}</title></rect>"
            )
            x += width
        total = sum(s.value for s in segments)
        parts.append(
            f'<text x="{x + 4:.1f}" y="{y + BAR_HEIGHT * 0.7:.1f}" class="value">'
            f"{_num(total)}</text>"
        )
        y += BAR_HEIGHT + BAR_GAP
    y = _legend(parts, seen, y + 4)
    return _svg(title, y + 4, parts)


def _legend(parts: list[str], seen: dict[str, str], y: float) -> float:
    """A legend row (wrapped) of colour swatches and labels at `y`; returns its bottom."""
    x = float(LABEL_WIDTH)
    for css, label in seen.items():
        width = 18 + 7 * len(label)
        if x + width > WIDTH:
            x, y = float(LABEL_WIDTH), y + 16
        parts.append(f'<rect x="{x:.1f}" y="{y}" width="10" height="10" class="{escape(css)}"/>')
        parts.append(f'<text x="{x + 14:.1f}" y="{y + 9}" class="legend">{escape(label)}</text>')
        x += width
    return y + 14


def time_series(title: str, series: Sequence[Series], *, x_label: str = "s") -> Markup:
    """Series over the same x (seconds, or runs): bars and lines on one scale from 0."""
    count = max((len(s.values) for s in series), default=0)
    top = max((v for s in series for v in s.values if v is not None), default=0.0) or 1.0
    plot_w = WIDTH - MARGIN - 10
    step = min(plot_w / max(count, 1), MAX_STEP)
    base = TOP + SERIES_HEIGHT

    def y_of(value: float) -> float:
        return base - value / top * SERIES_HEIGHT

    parts = [
        f'<line x1="{MARGIN}" y1="{base}" x2="{WIDTH - 10}" y2="{base}" class="axis"/>',
        f'<text x="{MARGIN - 4}" y="{TOP + 8}" text-anchor="end" class="tick">{_num(top)}</text>',
        f'<text x="{MARGIN - 4}" y="{base}" text-anchor="end" class="tick">0</text>',
        f'<text x="{WIDTH - 10}" y="{base + 16}" text-anchor="end" class="tick">'
        f"{count} {escape(x_label)}</text>",
    ]
    for s in series:
        if s.bars:
            for i, value in enumerate(s.values):
                if value:
                    parts.append(
                        f'<rect x="{MARGIN + i * step:.1f}" y="{y_of(value):.1f}" '
                        f'width="{max(step * 0.8, 1):.1f}" height="{base - y_of(value):.1f}" '
                        f'class="{escape(s.css)}"/>'
                    )
            continue
        runs: list[list[str]] = [[]]
        for i, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            runs[-1].append(f"{MARGIN + (i + 0.5) * step:.1f},{y_of(value):.1f}")
        for points in runs:
            if len(points) == 1:
                cx, cy = points[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2.5" class="{escape(s.css)} dot"/>')
            elif points:
                parts.append(
                    f'<polyline points="{" ".join(points)}" class="{escape(s.css)} line"/>'
                )
    bottom = _legend(parts, {s.css: s.label for s in series}, base + 26)
    return _svg(title, bottom + 4, parts)


def _svg(title: str, height: float, parts: list[str]) -> Markup:
    body = "".join(parts)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'width="{WIDTH}" height="{height:.0f}" role="img" aria-label="{escape(title)}">'
        f'<title>{escape(title)}</title><text x="2" y="12" class="chart-title">'
        f"{escape(title)}</text>{body}</svg>"
    )
