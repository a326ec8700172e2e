import pytest

from pipeline.outputs.charts import Series, bar_rows, column_chart, duration_ticks, format_duration, nice_ticks

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "seconds, text",
    [(0, "0 s"), (12.5, "12.5 s"), (59, "59 s"), (60, "1 min 0 s"), (162, "2 min 42 s"), (2944.4, "49 min 4 s"),
     (5438.4, "1 h 30 min"), (3600, "1 h 0 min"), (90910, "1 d 1 h"), (86400, "1 d 0 h"), (89229, "1 d 0 h")],
)
def test_durations_read_as_people_say_them(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("seconds, text", [(60, "1 min"), (3600, "1 h"), (86400, "1 d"), (5400, "1 h 30 min"), (30, "30 s")])
def test_axis_ticks_drop_a_zero_second_unit(seconds, text):
    assert format_duration(seconds, tick=True) == text


def test_ticks_are_round_and_cover_the_maximum():
    assert nice_ticks(19) == [0, 5, 10, 15, 20]
    assert nice_ticks(112) == [0, 25, 50, 75, 100, 125]
    assert nice_ticks(0) == [0, 1]
    assert duration_ticks(5438.4, 4) == [0, 1800, 3600, 5400, 7200]  # half hours
    assert duration_ticks(50, 4) == [0, 15, 30, 45, 60]


def test_charts_are_svg_with_escaped_text():
    columns = column_chart(["a<b", "c"], [3, 0], x_title="x", y_title="y", label="t & u")
    assert columns.startswith("<svg") and "a&lt;b" in columns and 't &amp; u' in columns
    assert columns.count("<rect") == 2
    rows = bar_rows(["BCN"], [Series("p50", [10.0], "#000"), Series("p90", [None], "#111")], ticks=[0, 30],
                    tick_format=str, value_format=format_duration, x_title="delay", label="cities")
    assert rows.count("<rect") == 3  # one bar (the missing value has none) and two legend swatches
