"""Server-side SVG charts: geometry worked out here, drawn by templates/dashboard/_chart.html.

No script and no inline style is needed (a strict Content Security Policy is coming):
colours come from classes in static/css/dashboard.css. Every chart has a table view
next to it, so a hidden (suppressed) figure is simply a gap in the line or bar.
"""

import math
from dataclasses import dataclass, field

from .definition import MIX

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 40
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM


@dataclass
class Tick:
    y: float
    label: str


@dataclass
class Chart:
    kind: str  # "line" or "bars"
    title: str
    description: str
    ticks: list = field(default_factory=list)
    x_labels: list = field(default_factory=list)  # (x, label)
    points: list = field(default_factory=list)  # (x, y, label, css class) for line charts
    segments: list = field(default_factory=list)  # (x1, y1, x2, y2, css class): lines between points that both exist
    bars: list = field(default_factory=list)  # (x, width, [(y, height, css_class, label)])
    legend: list = field(default_factory=list)  # (css_class, label)
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: int = HEIGHT - BOTTOM
    right: int = WIDTH - RIGHT


def nice_maximum(value):
    """A round number at or above the largest value, for the top of the axis."""
    if value <= 0:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _format_tick(value, percent):
    text = f"{value:g}" if value < 1000 else f"{value:,.0f}"
    return text + ("%" if percent else "")


def _y(value, maximum):
    return round(TOP + PLOT_HEIGHT - value / maximum * PLOT_HEIGHT, 1)


def _ticks(maximum, percent):
    return [Tick(_y(maximum * i / 4, maximum), _format_tick(maximum * i / 4, percent)) for i in range(5)]


def _x_positions(count):
    step = PLOT_WIDTH / max(count, 1)
    return [round(LEFT + step * (i + 0.5), 1) for i in range(count)], step


def category_class(category, index):
    if category in {"red", "amber", "green"}:
        return f"app-chart__bar--{category}"
    return f"app-chart__bar--series-{index % 6}"


def chart_for(figures):
    """A trend chart for a MeasureFigures: a line for counts and rates, stacked bars for a mix."""
    measure = figures.measure
    quarters = figures.quarters
    xs, step = _x_positions(len(quarters))
    x_labels = [(x, quarter.short_label) for x, quarter in zip(xs, quarters, strict=True)]
    description = f"{measure.label} for each quarter from {quarters[0].short_label} to {quarters[-1].short_label}."
    if measure.kind == MIX:
        totals = []
        for quarter in quarters:
            cells = [figures.cell(quarter, key) for key, _ in measure.categories]
            totals.append(sum(cell.value or 0 for cell in cells))
        maximum = nice_maximum(max(totals, default=0))
        bars = []
        for x, quarter in zip(xs, quarters, strict=True):
            stacked, base = [], 0.0
            for index, (key, label) in enumerate(measure.categories):
                cell = figures.cell(quarter, key)
                if not cell.value:
                    continue
                top = base + cell.value
                y = _y(top, maximum)
                stacked.append((y, round(_y(base, maximum) - y, 1), category_class(key, index),
                                f"{quarter.short_label}: {label} {cell.text}"))
                base = top
            bars.append((round(x - step * 0.3, 1), round(step * 0.6, 1), stacked))
        legend = [(category_class(key, index), label) for index, (key, label) in enumerate(measure.categories)]
        return Chart("bars", measure.label, description, _ticks(maximum, False), x_labels, bars=bars, legend=legend)
    percent = figures.headline_kind == "rate"
    cells = [figures.headline_cell(quarter) for quarter in quarters]
    values = [cell.value for cell in cells]
    provisional = [figures.is_provisional(quarter) for quarter in quarters]
    maximum = 100 if percent else nice_maximum(max((v for v in values if v is not None), default=0))
    points = [
        (x, _y(value, maximum),
         f"{quarter.short_label}: {cell.text}{' (provisional)' if later else ''}",
         "app-chart__point app-chart__point--provisional" if later else "app-chart__point")
        for x, value, quarter, cell, later in zip(xs, values, quarters, cells, provisional, strict=True)
        if value is not None
    ]
    segments = []
    for i in range(len(values) - 1):
        if values[i] is not None and values[i + 1] is not None:
            # A line into a provisional quarter is dashed: the figure is still coming in.
            css = "app-chart__line app-chart__line--provisional" if provisional[i + 1] else "app-chart__line"
            segments.append((xs[i], _y(values[i], maximum), xs[i + 1], _y(values[i + 1], maximum), css))
    if any(provisional):
        description += " Provisional quarters are drawn with a dashed line and hollow points."
    return Chart("line", measure.label, description, _ticks(maximum, percent), x_labels, points=points,
                 segments=segments)
