"""Small vector charts for the briefing, written as SVG text.

Hand-written SVG rather than a chart library: three chart kinds, no extra
dependency, no raster step, and the output is plain text a snapshot test can
compare. Every builder takes already-formatted labels (the renderer owns the
locale) and returns an ``<svg>`` string sized by its viewBox, so it scales
to the column it sits in and stays crisp when printed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape, quoteattr

Number = float | int | Decimal

INVESTMENT = "#6b7280"  # slate: money going in
RETURN = "#1f6f8b"  # teal: transaction-linked return
GAIN = "#2e7d32"
LOSS = "#b23b3b"
VALUE = "#7a4e9c"  # plum: intangible value, never mixed with the ROI colours
GRID = "#d9dde3"
INK = "#1f2933"
MUTED = "#5f6b7a"
FONT = "font-family=\"'Briefing Sans', 'DejaVu Sans', sans-serif\""


def nice_ticks(low: float, high: float, count: int = 4) -> list[float]:
    """Round axis ticks (1, 2, 2.5, 5 x 10^k) covering low..high, zero included."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1.0
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _text(x: float, y: float, label: str, *, anchor: str = "middle", size: float = 10, fill: str = INK,
          weight: str = "normal") -> str:  # fmt: skip
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'font-weight="{weight}" fill="{fill}" {FONT}>{escape(label)}</text>'
    )


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-label={quoteattr(title)}>'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


@dataclass(frozen=True)
class _Frame:
    """Maps data to the plot area of a chart."""

    left: float
    top: float
    width: float
    height: float
    y_min: float
    y_max: float

    def y(self, value: float) -> float:
        return self.top + self.height * (self.y_max - float(value)) / (self.y_max - self.y_min)


def cumulative_chart(
    labels: Sequence[str],
    investment: Sequence[Number],
    returns: Sequence[Number],
    payback_index: int | None,
    money: Callable[[Number], str],
    *,
    payback_label: str = "",
) -> str:
    """Cumulative return against cumulative investment by period, payback marked.

    ``payback_index`` is the 0-based period in which the return first covers
    the investment (None: not reached); ``money`` formats axis values.
    """
    width, height = 640, 250
    if not labels:
        return _svg(width, 60, [_text(width / 2, 34, "No periods to chart", fill=MUTED)], "No periods")
    values = [float(v) for v in (*investment, *returns)]
    ticks = nice_ticks(min(values), max(values))
    frame = _Frame(78, 30, width - 78 - 18, height - 30 - 40, ticks[0], ticks[-1])
    n = len(labels)
    step = frame.width / max(n - 1, 1)

    def x(i: int) -> float:
        return frame.left + (i * step if n > 1 else frame.width / 2)

    body = []
    for tick in ticks:
        y = frame.y(tick)
        body.append(
            f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.left + frame.width}" y2="{y:.1f}" '
            f'stroke="{GRID}" stroke-width="0.8"/>'
        )
        body.append(_text(frame.left - 6, y + 3.5, money(tick), anchor="end", size=9, fill=MUTED))
    every = max(1, math.ceil(n / 12))
    for i, label in enumerate(labels):
        if i % every == 0 or i == n - 1:
            body.append(_text(x(i), frame.top + frame.height + 16, label, size=9, fill=MUTED))

    def points(series: Sequence[Number]) -> str:
        return " ".join(f"{x(i):.1f},{frame.y(float(v)):.1f}" for i, v in enumerate(series))

    base = frame.y(max(frame.y_min, 0.0))
    area = f"{x(0):.1f},{base:.1f} {points(returns)} {x(n - 1):.1f},{base:.1f}"
    body.append(f'<polygon points="{area}" fill="{RETURN}" fill-opacity="0.10" stroke="none"/>')
    body.append(
        f'<polyline points="{points(investment)}" fill="none" stroke="{INVESTMENT}" '
        f'stroke-width="2" stroke-dasharray="5 3"/>'
    )
    body.append(f'<polyline points="{points(returns)}" fill="none" stroke="{RETURN}" stroke-width="2.4"/>')
    if payback_index is not None and 0 <= payback_index < n:
        px, py = x(payback_index), frame.y(float(returns[payback_index]))
        body.append(
            f'<line x1="{px:.1f}" y1="{frame.top:.1f}" x2="{px:.1f}" y2="{frame.top + frame.height:.1f}" '
            f'stroke="{GAIN}" stroke-width="1" stroke-dasharray="2 2"/>'
        )
        body.append(
            f'<circle class="payback" cx="{px:.1f}" cy="{py:.1f}" r="4.5" fill="#fff" '
            f'stroke="{GAIN}" stroke-width="2"/>'
        )
        anchor = "end" if payback_index > n / 2 else "start"
        offset = -8 if anchor == "end" else 8
        body.append(_text(px + offset, frame.top + 10, payback_label or "Payback", anchor=anchor, size=9.5,
                          fill=GAIN, weight="bold"))  # fmt: skip
    # legend
    body.append(
        f'<line x1="{frame.left}" y1="10" x2="{frame.left + 22}" y2="10" '
        f'stroke="{RETURN}" stroke-width="2.4"/>'
    )
    body.append(_text(frame.left + 28, 13.5, "Cumulative return (Expected)", anchor="start", size=9.5))
    lx = frame.left + 210
    body.append(
        f'<line x1="{lx}" y1="10" x2="{lx + 22}" y2="10" stroke="{INVESTMENT}" stroke-width="2" '
        f'stroke-dasharray="5 3"/>'
    )
    body.append(_text(lx + 28, 13.5, "Cumulative investment", anchor="start", size=9.5))
    return _svg(width, height, body, "Cumulative return against investment")


@dataclass(frozen=True)
class Step:
    """One bar of a waterfall: a change, or a total drawn from zero."""

    label: str
    value: Number
    shown: str  # the value as printed above the bar
    total: bool = False


def waterfall(steps: Sequence[Step], money: Callable[[Number], str]) -> str:
    """Investment (down) -> each return type (up) -> net return (a total from zero)."""
    width, height = 640, 230
    if not steps:
        return _svg(width, 60, [_text(width / 2, 34, "Nothing to chart", fill=MUTED)], "No figures")
    running, bars = 0.0, []
    for step in steps:
        value = float(step.value)
        if step.total:
            bars.append((0.0, value))
            running = value
        else:
            bars.append((running, running + value))
            running += value
    ends = [v for bar in bars for v in bar]
    ticks = nice_ticks(min(ends), max(ends))
    frame = _Frame(78, 22, width - 78 - 18, height - 22 - 42, ticks[0], ticks[-1])
    slot = frame.width / len(steps)
    bar_w = slot * 0.56
    body = []
    for tick in ticks:
        y = frame.y(tick)
        stroke = INK if tick == 0 else GRID
        body.append(
            f'<line x1="{frame.left}" y1="{y:.1f}" x2="{frame.left + frame.width}" y2="{y:.1f}" '
            f'stroke="{stroke}" stroke-width="{1 if tick == 0 else 0.8}"/>'
        )
        body.append(_text(frame.left - 6, y + 3.5, money(tick), anchor="end", size=9, fill=MUTED))
    for i, (step, (start, end)) in enumerate(zip(steps, bars, strict=True)):
        left = frame.left + i * slot + (slot - bar_w) / 2
        top, bottom = frame.y(max(start, end)), frame.y(min(start, end))
        colour = (GAIN if end >= 0 else LOSS) if step.total else RETURN if end >= start else INVESTMENT
        body.append(
            f'<rect class="bar" x="{left:.1f}" y="{top:.1f}" width="{bar_w:.1f}" '
            f'height="{max(bottom - top, 0.8):.1f}" fill="{colour}"/>'
        )
        if i + 1 < len(steps) and not steps[i + 1].total:
            y = frame.y(end)
            body.append(
                f'<line x1="{left + bar_w:.1f}" y1="{y:.1f}" x2="{left + slot:.1f}" y2="{y:.1f}" '
                f'stroke="{MUTED}" stroke-width="0.8" stroke-dasharray="2 2"/>'
            )
        if end >= start:
            body.append(_text(left + bar_w / 2, top - 5, step.shown, size=9.5, weight="bold"))
        elif bottom - top > 18:
            # a falling bar carries its label inside, clear of the axis labels under the plot
            body.append(_text(left + bar_w / 2, bottom - 6, step.shown, size=9.5, weight="bold", fill="#fff"))
        else:
            body.append(_text(left + bar_w / 2, bottom + 12, step.shown, size=9.5, weight="bold"))
        body.append(_text(left + bar_w / 2, frame.top + frame.height + 16, step.label, size=9, fill=MUTED))
    return _svg(width, height, body, "From investment to net return")


def sparkline(values: Sequence[Number | None], *, colour: str = VALUE) -> str:
    """A small trend line (periods left to right), the last value dotted; gaps skipped."""
    width, height, pad = 120, 28, 3
    known = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    if not known:
        return _svg(width, height, [], "No data")
    low, high = min(v for _, v in known), max(v for _, v in known)
    span = (high - low) or 1.0
    n = max(len(values) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        y = height / 2 if high == low else pad + (height - 2 * pad) * (high - v) / span
        return pad + (width - 2 * pad) * i / n, y

    pts = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in known))
    lx, ly = xy(*known[-1])
    body = [
        f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.6"/>',
        f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.4" fill="{colour}"/>',
    ]
    return _svg(width, height, body, "Trend")
