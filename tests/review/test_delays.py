"""Round delays on the delay curves (issue 26 item 4): 0, whole round steps, then the recorded delay."""

from __future__ import annotations

import itertools

import pytest

from responsesim.review.delays import STEPS_S, round_delays


@pytest.mark.parametrize(
    ("far", "most", "want"),
    [
        (277, 10, [0, 60, 120, 180, 240, 277]),  # Parkland's recorded delay: 30 s steps would need 11
        (4380, 10, [0, 600, 1200, 1800, 2400, 3000, 3600, 4200, 4380]),  # Uvalde's
        (90, 10, [0, 15, 30, 45, 60, 75, 90]),  # a round recorded delay is not repeated
        (30, 2, [0, 30]),
        (0, 10, [0]),
    ],
)
def test_round_delays(far: float, most: int, want: list[float]) -> None:
    got = round_delays(far, most)
    assert got == pytest.approx(want)


def test_every_inner_point_is_a_multiple_of_a_named_step_and_the_count_holds() -> None:
    for far in (1, 14, 59.5, 61, 599, 3601, 20_000, 200_000):
        for most in (2, 3, 5, 10, 50):
            d = round_delays(far, most)
            assert d[0] == 0 and d[-1] == pytest.approx(far) and len(d) <= most
            assert all(b > a for a, b in itertools.pairwise(d))
            inner = d[1:-1]
            if inner and far <= STEPS_S[-1] * (most - 1):
                step = inner[0]
                assert step in STEPS_S and all(x == pytest.approx(k * step) for k, x in enumerate(inner, 1))
    with pytest.raises(ValueError):
        round_delays(100, 1)
