"""Round delays for a delay curve: 0, then whole steps a reader can name (15 s, 30 s, 1, 2, 5, 10 ... min),
then the recorded delay itself, so that every point reads as "had it come N minutes sooner"."""

from __future__ import annotations

import math

#: steps a curve may use (s): 15 s, 30 s, 1, 2, 5, 10, 15, 20, 30 min, 1, 2, 3, 6, 12 h
STEPS_S: tuple[float, ...] = (15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200)


def round_delays(far_s: float, most: int) -> list[float]:
    """Delays (s) from 0 to ``far_s`` for a curve of at most ``most`` points (``most`` >= 2): 0, multiples
    of the smallest round step that keeps the count within ``most``, and ``far_s`` itself (the record).
    ``far_s`` <= 0 gives [0.0]."""
    if most < 2:
        raise ValueError("a delay curve needs at least 2 points")
    if not far_s > 0:
        return [0.0]
    for step in STEPS_S:
        inner = math.ceil(far_s / step) - 1  # multiples of step strictly below far_s
        if inner + 2 <= most:
            return [0.0, *(k * step for k in range(1, inner + 1)), float(far_s)]
    step = far_s / (most - 1)  # longer than the largest step allows: an even split
    return [k * step for k in range(most - 1)] + [float(far_s)]
