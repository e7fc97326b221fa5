"""Log-axis ticks at 1, 2 and 5 times each power of ten, written in full (plotly's own write 20 as "2")."""

import math

import pytest

from dashboard.figures.log_axis import log_ticks


@pytest.mark.parametrize("values, text", [
    ([0.6, 42.0], ["0.5", "1", "2", "5", "10", "20", "50"]),
    ([1.0, 3.8, 4.8], ["1", "2", "5"]),
    ([0.15, 1.04], ["0.1", "0.2", "0.5", "1", "2"]),
    ([1.0], ["1", "2"]),  # one value: a tick either side of it
    ([0.0, -1.0, math.nan, math.inf, 7.0], ["5", "10"]),  # only positive finite values count
    ([0.001, 1000.0], ["0.001", "0.01", "0.1", "1", "10", "100", "1000"]),  # six decades: one tick each
])
def test_ticks_span_the_values_and_read_as_numbers(values, text):
    axis = log_ticks(values)
    assert axis["ticktext"] == text and axis["tickmode"] == "array"
    assert [f"{v:g}" for v in axis["tickvals"]] == text
    assert axis["range"][0] < math.log10(axis["tickvals"][0]) and axis["range"][1] > math.log10(axis["tickvals"][-1])


def test_tick_values_are_the_decimal_numbers():
    assert log_ticks([0.2, 0.5])["tickvals"] == [0.2, 0.5]
