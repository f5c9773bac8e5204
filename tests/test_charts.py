"""The SVG chart builders: valid SVG, bars and points where the data puts them."""

from decimal import Decimal

from lxml import etree

from scrm_xl import charts

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str):
    return etree.fromstring(svg.encode())


def money(v):
    return f"${float(v):,.0f}"


def test_nice_ticks_cover_range_and_zero():
    assert charts.nice_ticks(0, 205500) == [0, 100000, 200000, 300000]
    ticks = charts.nice_ticks(-164000, 41500)
    assert ticks[0] <= -164000 and ticks[-1] >= 41500 and 0 in ticks


def test_cumulative_chart_marks_payback_on_the_return_line():
    inv = [100, 200, 300, 400]
    ret = [0, 150, 320, 500]
    root = parse(
        charts.cumulative_chart(["A", "B", "C", "D"], inv, ret, 2, money, payback_label="Payback: C")
    )
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 2
    ret_points = [tuple(map(float, p.split(","))) for p in lines[1].get("points").split()]
    marker = root.find(f"{SVG}circle[@class='payback']")
    assert (float(marker.get("cx")), float(marker.get("cy"))) == ret_points[2]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Payback: C" in texts and texts[:4] == ["$0", "$200", "$400", "$600"]  # axis covers 500


def test_cumulative_chart_without_payback_has_no_marker():
    root = parse(charts.cumulative_chart(["A", "B"], [10, 20], [0, 5], None, money))
    assert root.find(f"{SVG}circle[@class='payback']") is None


def test_waterfall_bars_are_proportional_and_net_starts_at_zero():
    steps = [
        charts.Step("Investment", Decimal(-100), "-$100"),
        charts.Step("New revenue", Decimal(60), "+$60"),
        charts.Step("Cost savings", Decimal(70), "+$70"),
        charts.Step("Net return", Decimal(30), "$30", total=True),
    ]
    root = parse(charts.waterfall(steps, money))
    bars = root.findall(f"{SVG}rect[@class='bar']")
    heights = [float(b.get("height")) for b in bars]
    assert len(bars) == 4
    assert abs(heights[0] / heights[1] - 100 / 60) < 0.02
    assert abs(heights[2] / heights[3] - 70 / 30) < 0.02
    # the net bar ends where the cost-savings bar ends: both at +30
    assert abs(float(bars[3].get("y")) - float(bars[2].get("y"))) < 0.11


def test_labels_are_escaped():
    svg = charts.cumulative_chart(["<b>&"], [1], [2], None, money)
    assert "<b>&" not in svg and "&lt;b&gt;&amp;" in svg
    parse(svg)


def test_sparkline_handles_gaps_flat_and_empty():
    root = parse(charts.sparkline([1, None, 3]))
    assert len(root.find(f"{SVG}polyline").get("points").split()) == 2
    flat = parse(charts.sparkline([5, 5, 5]))
    ys = {p.split(",")[1] for p in flat.find(f"{SVG}polyline").get("points").split()}
    assert len(ys) == 1
    assert parse(charts.sparkline([None, None])).find(f"{SVG}polyline") is None
