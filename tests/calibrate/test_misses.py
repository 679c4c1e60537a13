"""Documented reasons for calibration misses: the era rule, the registry lookup, the fallback."""

from __future__ import annotations

import pandas as pd

from responsesim.calibrate.misses import REASONS, documented, explain


def _row(set_: str, name: str, obs: float, lo: float, hi: float, sim: float) -> dict[str, object]:
    return {"set": set_, "name": name, "observed": obs, "ci_low": lo, "ci_high": hi, "simulated": sim,
            "inside": lo <= sim <= hi}  # fmt: skip


def test_era_rule_needs_the_training_target_met_and_a_shift_toward_the_miss() -> None:
    cmp = pd.DataFrame(
        [
            _row("train 2000-2013", "deaths_bin.0", 0.18, 0.12, 0.25, 0.18),  # met
            _row("held out 2014-2019", "deaths_bin.0", 0.27, 0.20, 0.35, 0.18),  # moved up, model low
            _row("train 2000-2013", "deaths_bin.1", 0.23, 0.17, 0.30, 0.20),
            _row("held out 2014-2019", "deaths_bin.1", 0.10, 0.06, 0.15, 0.05),  # moved down, model lower
            _row("train 2000-2013", "x_share", 0.30, 0.20, 0.40, 0.50),  # training missed
            _row("held out 2014-2019", "x_share", 0.30, 0.20, 0.40, 0.50),
        ]
    )
    out = explain(cmp)
    assert out[("held out 2014-2019", "deaths_bin.0")].cause == "era"
    assert "0.27 against 0.18" in out[("held out 2014-2019", "deaths_bin.0")].text
    # the data moved down but the model is below even that: the shift does not explain the miss
    assert out[("held out 2014-2019", "deaths_bin.1")].cause == "data"  # the 'deaths' registry entry
    assert out[("held out 2014-2019", "x_share")].cause == "unexplained"
    assert out[("train 2000-2013", "x_share")].cause == "unexplained"
    assert ("train 2000-2013", "deaths_bin.0") not in out  # inside: no reason needed


def test_documented_prefers_exact_then_longest_prefix() -> None:
    assert documented("ended_within_5min_share") is REASONS["ended_within_5min_share"]
    assert documented("wounded_bin.8+") is REASONS["wounded"]
    assert documented("ending_share.police_shot") is REASONS["ending_share.police_shot"]
    assert documented("nothing_like_it") is None
