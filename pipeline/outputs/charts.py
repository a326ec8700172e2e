"""Small inline SVG charts for the static report: columns, lines and horizontal bars.

Plain Python, no dependencies: the report must open anywhere without scripts,
styles or fonts from elsewhere. Text and colours are styled by the page's CSS
classes (tick, axis-title, grid, axis, legend, value)."""

import math
from itertools import groupby
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

# Steps that read well on a time axis, in seconds: 1 s ... 30 s, 1 min ... 30 min, 1 h ... 12 h, days.
DURATION_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444")


def format_number(value: float) -> str:
    """1234 -> '1,234'; 12.5 -> '12.5'."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def format_duration(seconds: float, tick: bool = False) -> str:
    """A delay as people say it: '45 s', '12.5 s', '2 min 42 s', '1 h 31 min', '2 d 3 h'.
    A value always has two units from a minute on ('1 d 0 h' for 89,229 s: '1 d'
    would hide 47 minutes); an axis tick drops a zero second unit ('1 min')."""
    if seconds < 60:
        return f"{format_number(round(seconds, 1))} s"
    whole = round(seconds)
    for unit, size, sub_unit, sub_size in (("d", 86400, "h", 3600), ("h", 3600, "min", 60), ("min", 60, "s", 1)):
        if whole >= size:
            rest = (whole % size) // sub_size
            return f"{whole // size} {unit}" + (f" {rest} {sub_unit}" if rest or not tick else "")
    raise AssertionError("unreachable")


def format_compact(value: float) -> str:
    """Short labels for bar tops: 950, 12.3k, 4.5M."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if abs(value) >= 10 * size:
            return f"{value / size:.1f}{suffix}"
    return format_number(value)


def format_percent(share: float) -> str:
    return f"{share * 100:.1f}%"


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """0, step, ... up to the first tick at or above `top`, with a 1-2-2.5-5 step."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def duration_ticks(top: float, count: int = 5) -> list[float]:
    """Like nice_ticks, with steps of whole seconds, minutes, hours or days."""
    if top <= 0:
        return [0.0, 1.0]
    step = next((s for s in DURATION_STEPS if s * count >= top), None)
    step = step or 86400 * math.ceil(top / count / 86400)
    return [float(i * step) for i in range(math.ceil(top / step) + 1)]


def left_margin(tick_labels: list[str]) -> int:
    """Room for the y tick labels (about 7 px a character) and the axis title."""
    return 36 + 7 * max(len(label) for label in tick_labels)


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]
    color: str


@dataclass(frozen=True)
class Frame:
    """A chart's canvas and plot area; y grows downwards in SVG."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int

    @property
    def plot_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def plot_height(self) -> float:
        return self.height - self.top - self.bottom

    def y(self, value: float, ticks: list[float]) -> float:
        return self.top + self.plot_height * (1 - value / ticks[-1])

    def x_band(self, index: int, count: int) -> tuple[float, float]:
        """Left edge and width of the index-th of `count` equal bands."""
        band = self.plot_width / count
        return self.left + index * band, band


def svg(frame: Frame, body: list[str], label: str) -> str:
    return (
        f'<svg viewBox="0 0 {frame.width} {frame.height}" role="img" aria-label="{escape(label)}" '
        f'xmlns="http://www.w3.org/2000/svg">' + "".join(body) + "</svg>"
    )


def text(x: float, y: float, content: str, css: str, anchor: str = "middle", extra: str = "") -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" class="{css}" text-anchor="{anchor}"{extra}>{escape(content)}</text>'


def y_axis(frame: Frame, ticks: list[float], tick_format: Callable[[float], str], title: str) -> list[str]:
    """Horizontal grid lines with labels on the left, and the axis title written upwards."""
    parts = []
    for tick in ticks:
        y = frame.y(tick, ticks)
        css = "axis" if tick == 0 else "grid"
        parts.append(f'<line x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y:.1f}" y2="{y:.1f}" class="{css}"/>')
        parts.append(text(frame.left - 8, y + 4, tick_format(tick), "tick", "end"))
    middle = frame.top + frame.plot_height / 2
    parts.append(text(16, middle, title, "axis-title", extra=f' transform="rotate(-90 16 {middle:.1f})"'))
    return parts


def x_axis_title(frame: Frame, title: str) -> str:
    """The horizontal axis's title, centred under the plot at the bottom edge."""
    return text(frame.left + frame.plot_width / 2, frame.height - 8, title, "axis-title")


def x_labels(frame: Frame, labels: Sequence[str], title: str, min_spacing: float = 64) -> list[str]:
    """Category labels under the bands (every k-th when they would overlap) and the axis title."""
    every = max(1, math.ceil(len(labels) * min_spacing / frame.plot_width))
    baseline = frame.height - frame.bottom
    parts = []
    for index in range(0, len(labels), every):
        x, band = frame.x_band(index, len(labels))
        parts.append(f'<line x1="{x + band / 2:.1f}" x2="{x + band / 2:.1f}" y1="{baseline}" '
                     f'y2="{baseline + 5}" class="axis"/>')
        for line, part in enumerate(labels[index].split("\n")):  # a label may have several lines
            parts.append(text(x + band / 2, baseline + 20 + 14 * line, part, "tick"))
    parts.append(x_axis_title(frame, title))
    return parts


def legend(frame: Frame, series: Sequence[Series], y: float) -> list[str]:
    """Swatches and names, right-aligned above the plot."""
    parts, x = [], frame.width - frame.right
    for item in reversed(series):
        x -= 7.5 * len(item.name) + 8
        parts.append(text(x, y + 4, item.name, "legend", "start"))
        x -= 20
        parts.append(f'<rect x="{x:.1f}" y="{y - 5:.1f}" width="14" height="10" rx="2" fill="{item.color}"/>')
        x -= 18
    return parts


def column_chart(
    labels: Sequence[str], values: Sequence[float], *, x_title: str, y_title: str, label: str, width: int = 1040,
    height: int = 300, tooltips: Sequence[str] | None = None, show_values: bool = False, label_spacing: float = 64,
    color: str = PALETTE[0],
) -> str:
    """Vertical bars, one per label; values on top when asked and there is room."""
    ticks = nice_ticks(max(values, default=0))
    bottom = 52 + 14 * max((label.count("\n") for label in labels), default=0)
    frame = Frame(width, height, left=left_margin([format_number(t) for t in ticks]), right=16, top=24, bottom=bottom)
    parts = y_axis(frame, ticks, format_number, y_title)
    for index, value in enumerate(values):
        x, band = frame.x_band(index, len(values))
        gap = band * (0.25 if band > 8 else 0.1)
        top = frame.y(value, ticks)
        tip = tooltips[index] if tooltips else f"{labels[index]}: {format_number(value)}"
        parts.append(
            f'<rect x="{x + gap / 2:.1f}" y="{top:.1f}" width="{band - gap:.1f}" '
            f'height="{frame.y(0, ticks) - top:.1f}" rx="2" fill="{color}"><title>{escape(tip)}</title></rect>'
        )
        if show_values and band >= 6.2 * len(format_compact(value)) + 2:  # when the label fits
            parts.append(text(x + band / 2, top - 6, format_compact(value), "value"))
    parts += x_labels(frame, labels, x_title, label_spacing)
    return svg(frame, parts, label)


def line_chart(
    labels: Sequence[str], series: Sequence[Series], *, ticks: list[float], tick_format: Callable[[float], str],
    x_title: str, y_title: str, label: str, width: int = 1040, height: int = 300,
) -> str:
    """One line per series over the labels' bands; a None value breaks the line."""
    frame = Frame(width, height, left=left_margin([tick_format(t) for t in ticks]), right=16, top=36, bottom=52)
    parts = y_axis(frame, ticks, tick_format, y_title)
    for item in series:
        points = []
        for index, value in enumerate(item.values):
            x, band = frame.x_band(index, len(labels))
            points.append(None if value is None else (x + band / 2, frame.y(value, ticks), labels[index], value))
        for gap, run in groupby(points, key=lambda point: point is None):
            if gap:
                continue
            segment = list(run)
            path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y, _, _) in enumerate(segment))
            parts.append(f'<path d="{path}" fill="none" stroke="{item.color}" stroke-width="2" '
                         f'stroke-linejoin="round"/>')
            if len(labels) <= 62:
                parts += [
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{item.color}">'
                    f"<title>{escape(f'{name} - {item.name}: {tick_format(value)}')}</title></circle>"
                    for x, y, name, value in segment
                ]
    parts += legend(frame, series, 14)
    parts += x_labels(frame, labels, x_title)
    return svg(frame, parts, label)


def bar_rows(
    categories: Sequence[str], series: Sequence[Series], *, ticks: list[float], tick_format: Callable[[float], str],
    value_format: Callable[[float], str], x_title: str, label: str, width: int = 520, missing: str = "no values",
) -> str:
    """Horizontal bars: per category one bar per series, values written at the bar ends;
    `missing` where a category has no value at all."""
    bar, gap = 13, 14
    row = bar * len(series) + gap
    frame = Frame(width, 44 + row * len(categories) + 44, left=72, right=88, top=44, bottom=44)
    scale = frame.plot_width / ticks[-1]
    parts = []
    for tick in ticks:
        x = frame.left + tick * scale
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{frame.top - 4}" y2="{frame.height - frame.bottom}" '
                     f'class="{"axis" if tick == 0 else "grid"}"/>')
        parts.append(text(x, frame.height - frame.bottom + 18, tick_format(tick), "tick"))
    for index, category in enumerate(categories):
        y = frame.top + index * row + gap / 2
        parts.append(text(frame.left - 10, y + row / 2 - gap / 2 + 4, category, "category", "end"))
        if all(item.values[index] is None for item in series):
            parts.append(text(frame.left + 8, y + row / 2 - gap / 2 + 4, missing, "value", "start"))
        for offset, item in enumerate(series):
            value = item.values[index]
            if value is None:
                continue
            top, length = y + offset * bar, value * scale
            parts.append(
                f'<rect x="{frame.left}" y="{top:.1f}" width="{length:.1f}" height="{bar - 2}" rx="2" '
                f'fill="{item.color}"><title>{escape(f"{category} {item.name}: {value_format(value)}")}</title></rect>'
            )
            parts.append(text(frame.left + length + 6, top + bar - 4, value_format(value), "value", "start"))
    parts += legend(frame, series, 16)
    parts.append(x_axis_title(frame, x_title))
    return svg(frame, parts, label)
