"""Branching from one saved moment: determinism, common random numbers, versioning, statistics."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from responsesim.codes import D_NO_ENTRY, D_SOLO, INSIDE
from responsesim.exercise.alternatives import Alternative, apply, doctrine_choices
from responsesim.exercise.branching import branch_keys, run_branches
from responsesim.exercise.moment import Moment, MomentMismatchError, MomentVersionError
from responsesim.exercise.sim import Sim, replicate

ENTER = Alternative("enter_now", "enter", doctrine=(D_SOLO, 0.0))
HOLD = Alternative("hold_perimeter", "hold", doctrine=(D_NO_ENTRY, 0.0))
BREACH = Alternative("breach", "breach", breach=True)
CONTAIN = Alternative("contain", "contain", breach=False)


def test_branch_keys_depend_on_key_and_branch_only() -> None:
    a = branch_keys(12345, 50)
    assert a.dtype == np.uint64 and len(set(a.tolist())) == 50
    assert np.array_equal(a, branch_keys(12345, 50))
    assert np.array_equal(a[:20], branch_keys(12345, 20))  # branch b's key does not depend on n
    assert not np.array_equal(a, branch_keys(12346, 50))
    assert not np.intersect1d(a, branch_keys(12345, 50, salt=1)).size


def test_same_state_same_choice_same_outcomes(barricade_scenario, arrival_moment) -> None:
    one = run_branches(arrival_moment, barricade_scenario, [ENTER, HOLD], 150)
    two = run_branches(arrival_moment, barricade_scenario, [HOLD, ENTER], 150)
    for alt in ("enter_now", "hold_perimeter"):
        x, y = one.of(alt), two.of(alt)
        for f in ("deaths", "killed", "died_awaiting_care", "officers_shot", "unit_shot", "end_reason"):
            assert np.array_equal(getattr(x, f), getattr(y, f), equal_nan=True), (alt, f)


def test_an_alternative_that_changes_nothing_is_identical(barricade_scenario, arrival_moment) -> None:
    twin = dataclasses.replace(ENTER, id="enter_now_again")
    b = run_branches(arrival_moment, barricade_scenario, [ENTER, twin], 150)
    for f in ("deaths", "officers_shot", "unit_shot", "attack_duration_s", "end_reason"):
        assert np.array_equal(getattr(b.outcomes[0], f), getattr(b.outcomes[1], f), equal_nan=True)
    # the choices differ in some branches (the unit's doctrine matters from its arrival)
    h = run_branches(arrival_moment, barricade_scenario, [ENTER, HOLD], 150)
    assert (h.of("enter_now").unit_shot != h.of("hold_perimeter").unit_shot).any()


def test_draws_shared_until_the_runs_diverge(barricade_scenario, arrival_moment) -> None:
    """Breach and contain differ only once the attacker barricades: every branch in which it never did
    (under contain) is identical under breach, draw for draw."""
    b = run_branches(arrival_moment, barricade_scenario, [BREACH, CONTAIN], 300)
    never = np.isnan(b.of("contain").barricade_s)
    assert 0 < never.sum() < 300
    for f in ("deaths", "officers_shot", "unit_shot", "attack_duration_s", "end_reason"):
        x, y = getattr(b.of("breach"), f), getattr(b.of("contain"), f)
        assert np.array_equal(x[never], y[never], equal_nan=True), f
    assert np.isnan(b.of("breach").barricade_s[never]).all()


def test_a_doctrine_change_once_inside_changes_nothing(barricade_scenario, arrival_moment) -> None:
    sim = Sim.of(barricade_scenario.params)
    st = replicate(arrival_moment.state, 0, 1)
    th = arrival_moment.theta.copy()
    while st.a_active[0] and st.u_status[0, arrival_moment.unit] != INSIDE:
        sim.step(st, th)
    assert st.u_status[0, arrival_moment.unit] == INSIDE
    m = dataclasses.replace(arrival_moment, state=st)
    b = run_branches(m, barricade_scenario, [ENTER, HOLD], 100)
    assert np.array_equal(b.of("enter_now").deaths, b.of("hold_perimeter").deaths)
    assert np.array_equal(b.of("enter_now").unit_shot, b.of("hold_perimeter").unit_shot)


def test_saved_moment_round_trip(tmp_path: Path, barricade_scenario, arrival_moment) -> None:
    path = arrival_moment.save(tmp_path / "m.npz")
    back = Moment.load(path)
    assert back.meta() == arrival_moment.meta()
    x = run_branches(arrival_moment, barricade_scenario, [ENTER], 80).outcomes[0]
    y = run_branches(back, barricade_scenario, [ENTER], 80).outcomes[0]
    assert np.array_equal(x.deaths, y.deaths) and np.array_equal(x.unit_shot, y.unit_shot)


def test_another_model_version_is_refused(tmp_path: Path, arrival_moment) -> None:
    path = arrival_moment.save(tmp_path / "m.npz")
    with np.load(path) as z:
        data = {k: z[k] for k in z.files}
    meta = json.loads(str(data["meta"]))
    meta["model_version"] = "model-0000000000000000"
    data["meta"] = np.array(json.dumps(meta))
    np.savez(tmp_path / "old.npz", **data)
    with pytest.raises(MomentVersionError, match=r"saved under model model-0{16}, and the engine is now"):
        Moment.load(tmp_path / "old.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a moment")
    with pytest.raises(ValueError, match="not a saved exercise moment"):
        Moment.load(tmp_path / "junk.npz")


def test_another_scenario_is_refused(barricade_scenario, arrival_moment) -> None:
    other = barricade_scenario.with_run_settings(seed=7)
    with pytest.raises(MomentMismatchError, match="saved from seed 2022, not 7"):
        run_branches(arrival_moment, other, [ENTER], 10)
    moved = dataclasses.replace(arrival_moment, scenario_hash="0" * 64)
    with pytest.raises(MomentMismatchError, match="saved from scenario"):
        run_branches(moved, barricade_scenario, [ENTER], 10)
    recal = dataclasses.replace(arrival_moment, calibration_key="v:0123456789abcdef")
    with pytest.raises(MomentMismatchError, match="saved under calibration v:0123456789abcdef"):
        run_branches(recal, barricade_scenario, [ENTER], 10)


def test_independent_branch_sets_agree(barricade_scenario, arrival_moment) -> None:
    """Two independent sets of branch keys (salts 0 and 1) give the same distribution: Welch's t on the
    deaths and Fisher's exact test on the officer shot, each at the 0.1% level (fixed seeds)."""
    units = Sim.of(barricade_scenario.params).ei.units
    alts = doctrine_choices(arrival_moment.state, units, arrival_moment.unit)
    ids = [a.id for a in alts]
    assert ids[0] == "enter_now" and "wait_for_next" in ids and ids[-1] == "hold_perimeter"
    a = run_branches(arrival_moment, barricade_scenario, alts[:2], 400, salt=0)
    b = run_branches(arrival_moment, barricade_scenario, alts[:2], 400, salt=1)
    for x, y in zip(a.outcomes, b.outcomes, strict=True):
        assert stats.ttest_ind(x.deaths, y.deaths, equal_var=False).pvalue > 0.001
        table = [[x.unit_shot.sum(), (~x.unit_shot).sum()], [y.unit_shot.sum(), (~y.unit_shot).sum()]]
        assert stats.fisher_exact(table).pvalue > 0.001


def test_common_random_numbers_narrow_the_difference(barricade_scenario, arrival_moment) -> None:
    """The paired difference between two choices has a smaller variance than that of independent runs."""
    a = run_branches(arrival_moment, barricade_scenario, [ENTER, HOLD], 600)
    x, y = a.of("enter_now").deaths.astype(float), a.of("hold_perimeter").deaths.astype(float)
    assert np.var(x - y) < np.var(x) + np.var(y)


def test_dropping_ended_rows_changes_no_number(barricade_scenario, arrival_moment) -> None:
    """``Sim.run_compacting`` (ended rows dropped from the batch) gives the plain tick loop's outcomes."""
    sim = Sim.of(barricade_scenario.params)
    alts = doctrine_choices(arrival_moment.state, sim.ei.units, arrival_moment.unit)
    n = 120
    st = replicate(arrival_moment.state, 0, len(alts) * n)
    th = np.repeat(arrival_moment.theta, len(alts) * n)
    st.key[:] = np.tile(branch_keys(arrival_moment.key, n), len(alts))
    for k, alt in enumerate(alts):
        apply(alt, st, th, arrival_moment.unit, slice(k * n, (k + 1) * n))
    plain = st.copy()
    sim.run_to_end(plain, th.copy())
    compact, _ = sim.run_compacting(st, th.copy())
    a, b = sim.outcomes(plain), sim.outcomes(compact)
    for f in a._fields:
        assert np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True), f
    assert np.array_equal(plain.u_status, compact.u_status)


def test_two_processes_give_the_same_numbers(barricade_scenario, arrival_moment) -> None:
    alts = doctrine_choices(
        arrival_moment.state, Sim.of(barricade_scenario.params).ei.units, arrival_moment.unit
    )
    one = run_branches(arrival_moment, barricade_scenario, alts, 100)
    two = run_branches(arrival_moment, barricade_scenario, alts, 100, workers=2)
    for x, y in zip(one.outcomes, two.outcomes, strict=True):
        for f in (
            "deaths",
            "died_awaiting_care",
            "officers_shot",
            "unit_shot",
            "attack_duration_s",
            "end_reason",
        ):
            assert np.array_equal(getattr(x, f), getattr(y, f), equal_nan=True), (x.alternative.id, f)
