"""Line charts as inline SVG, drawn on the server: no script, no external asset, offline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#b83280", "#6b46c1", "#718096", "#c53030")
WIDTH, HEIGHT, LEFT, BOTTOM = 560, 140, 44, 18


@dataclass(frozen=True)
class Line:
    label: str
    values: Sequence[float | None]  # one per bucket, oldest first; None: no data


def chart(
    lines: Sequence[Line], *, title: str, unit: str = "/s", top: float | None = None
) -> SafeString:
    """A chart of ``lines`` over the same buckets, its y axis from 0 to the highest value
    (or ``top``), a legend with each line's latest value."""
    points = [v for line in lines for v in line.values if v is not None]
    peak = top if top is not None else max(points, default=0.0) or 1.0
    count = max((len(line.values) for line in lines), default=0)
    step = (WIDTH - LEFT - 8) / max(count - 1, 1)
    plot_height = HEIGHT - BOTTOM - 8

    def xy(i: int, value: float) -> str:
        return f"{LEFT + i * step:.1f},{8 + plot_height * (1 - min(value, peak) / peak):.1f}"

    paths = []
    for n, line in enumerate(lines):
        segment = [xy(i, v) for i, v in enumerate(line.values) if v is not None]
        if segment:
            paths.append((COLOURS[n % len(COLOURS)], " ".join(segment)))
    legend = format_html_join(
        " ", '<span class="legend"><i style="background:{}"></i>{} {}</span>',
        (
            (COLOURS[n % len(COLOURS)], line.label, _latest(line.values, unit))
            for n, line in enumerate(lines)
        ),
    )  # fmt: skip
    svg = format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{title}">'
        '<line x1="{l}" y1="8" x2="{l}" y2="{b}" class="axis"/>'
        '<line x1="{l}" y1="{b}" x2="{w}" y2="{b}" class="axis"/>'
        '<text x="{tx}" y="14" class="tick">{peak}</text>'
        '<text x="{tx}" y="{b}" class="tick">0</text>{paths}</svg>',
        w=WIDTH, h=HEIGHT, l=LEFT, b=HEIGHT - BOTTOM, tx=LEFT - 4, title=title,
        peak=_number(peak),
        paths=format_html_join(
            "", '<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>', paths
        ),
    )  # fmt: skip
    return format_html(
        '<figure class="chart-box"><figcaption>{}</figcaption>{}<div>{}</div></figure>',
        title, svg, legend,
    )  # fmt: skip


def _latest(values: Sequence[float | None], unit: str) -> str:
    latest = next((v for v in reversed(values) if v is not None), None)
    return "" if latest is None else f"{_number(latest)}{unit}"


def _number(value: float) -> str:
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.2f}"
