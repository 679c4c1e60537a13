"""compare: doctrine syntax, common random numbers and the paired t interval."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from responsesim.compare import (
    COMPARE_METRICS,
    DoctrineSyntaxError,
    compare,
    compare_command,
    paired_diff,
    parse_doctrine,
    with_doctrine,
)
from responsesim.scenario.load import load_scenario


@pytest.fixture(scope="module")
def small():
    return load_scenario().with_updates(horizon_s=600)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("solo_entry", {"kind": "solo_entry"}),
        ("perimeter", {"kind": "perimeter"}),
        ("no_entry", {"kind": "no_entry"}),
        ("backup_eta_rule:60", {"kind": "backup_eta_rule", "threshold_s": 60.0}),
        ("wait_for_n:3", {"kind": "wait_for_n", "n": 3}),
        ("hesitate:120", {"kind": "hesitate", "delay_s": 120.0}),
        ("hesitate", {"kind": "hesitate"}),
    ],
)
def test_parse_doctrine(text, expected):
    assert parse_doctrine(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "charge",
        "solo_entry:5",
        "wait_for_n:2.5",
        "wait_for_n:0",
        "hesitate:-1",
        "hesitate:soon",
        "hesitate:nan",
        "",
    ],
)
def test_bad_doctrine_syntax(text):
    with pytest.raises(DoctrineSyntaxError, match="doctrine"):
        parse_doctrine(text)


def test_with_doctrine_changes_only_the_doctrine(small):
    sc = with_doctrine(small, "hesitate:30")
    assert sc.spec.doctrine.kind == "hesitate"
    assert sc.spec.doctrine.delay_s == 30.0
    assert sc.spec.model_dump(exclude={"doctrine"}) == small.spec.model_dump(exclude={"doctrine"})


def test_paired_ci_matches_hand_computation():
    rng = np.random.default_rng(1)
    a = rng.poisson(5, 50).astype(float)
    b = a + rng.normal(1, 2, 50)
    n, mean, lo, hi = paired_diff(b, a)
    d = b - a
    half = stats.t.ppf(0.975, 49) * d.std(ddof=1) / math.sqrt(50)
    assert n == 50
    assert mean == pytest.approx(d.mean())
    assert (lo, hi) == pytest.approx((d.mean() - half, d.mean() + half))
    # scipy's own paired test gives the same interval
    ci = stats.ttest_rel(b, a).confidence_interval(0.95)
    assert (lo, hi) == pytest.approx((ci.low, ci.high))


def test_paired_diff_edge_cases():
    assert paired_diff(np.array([2.0, 2.0]), np.array([1.0, 1.0]))[1:] == (1.0, 1.0, 1.0)
    n, mean, lo, _ = paired_diff(np.array([1.0, np.nan, 3.0]), np.array([0.0, 1.0, 1.0]))
    assert n == 2 and mean == 1.5 and not math.isnan(lo)
    assert math.isnan(paired_diff(np.array([1.0]), np.array([0.0]))[2])


def test_compare_is_paired_and_matches_hand_computation(small):
    # at the point estimate the intervals are the paired t intervals (chance only); posterior draws:
    # tests/test_posterior_runs.py
    doctrines = ["backup_eta_rule:60", "no_entry", "hesitate:120"]
    res = compare(small, doctrines, replications=12, seed=7, uncertainty="point")
    base = res.outcomes["backup_eta_rule:60"]
    # incidents only: the replications in which a shot was fired (the same in every arm)
    assert list(base["rep"]) == sorted(base["rep"]) and set(base["rep"]) <= set(range(12))
    assert len(base) == res.incidents and res.to_json()["attempts"] == 12
    for d in res.doctrines:
        assert list(res.outcomes[d]["rep"]) == list(base["rep"])
        assert res.outcomes[d]["first_shot_s"].notna().all()
    assert len(res.diffs) == 2 * len(COMPARE_METRICS)
    for x in res.diffs:
        d = res.outcomes[x.doctrine][x.metric].to_numpy(float) - base[x.metric].to_numpy(float)
        d = d[~np.isnan(d)]
        assert x.n == d.size
        assert x.mean_diff == pytest.approx(d.mean())
        if np.all(d == d[0]):
            assert x.ci_low == x.ci_high == d[0]
        else:
            ci = stats.ttest_1samp(d, 0.0).confidence_interval(0.95)
            assert (x.ci_low, x.ci_high) == pytest.approx((ci.low, ci.high))
        assert x.significant == (x.ci_low > 0 or x.ci_high < 0)
    # common random numbers: the same doctrine twice would give identical arms
    again = compare(small, ["no_entry", "backup_eta_rule:60"], replications=12, seed=7, uncertainty="point")
    assert again.outcomes["no_entry"].equals(res.outcomes["no_entry"])
    json.dumps(res.to_json(), allow_nan=False)


def test_compare_rejects_bad_input(small):
    with pytest.raises(DoctrineSyntaxError):
        compare(small, ["no_entry"], replications=5, seed=1)
    with pytest.raises(DoctrineSyntaxError):
        compare(small, ["no_entry", "no_entry"], replications=5, seed=1)
    with pytest.raises(DoctrineSyntaxError):
        compare(small, ["no_entry", "rush:5"], replications=5, seed=1)


def test_compare_command(tmp_path, capsys):
    p = tmp_path / "s.toml"
    p.write_text('name = "t"\nhorizon_s = 600\n')
    assert compare_command(p, ["backup_eta_rule", "no_entry"], 4, 3, True) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["doctrines"] == ["backup_eta_rule", "no_entry"] and out["replications"] == 4
    assert compare_command(p, ["backup_eta_rule", "no_entry"], 4, 3, False) == 0
    assert "difference vs backup_eta_rule" in capsys.readouterr().out
    assert compare_command(p, ["backup_eta_rule", "bogus"], 4, 3, False) == 2
    assert "unknown doctrine" in capsys.readouterr().err
    assert compare_command(tmp_path / "missing.toml", ["no_entry", "perimeter"], 4, 3, False) == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("horizon_s = -1\n")
    assert compare_command(bad, ["no_entry", "perimeter"], 4, 3, False) == 2
    assert "bad.toml:1" in capsys.readouterr().err
