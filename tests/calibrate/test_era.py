"""The response eras: the 2014-2019 ensemble file, the check's held-out simulation, the era test."""

from __future__ import annotations

import collections
import math
from pathlib import Path

import pytest

from responsesim.calibrate.endings import ENDING_CLASSES
from responsesim.calibrate.ensemble import EnsembleError, load_ensemble, load_era_ensemble
from responsesim.calibrate.era import ERAS, era_test, main
from responsesim.calibrate.pipeline import HELD_SET, check
from responsesim.calibrate.targets import wilson


def doctrine_mix(era: str) -> dict[str, float]:
    ens = load_era_ensemble(era)
    mix: dict[str, float] = collections.defaultdict(float)
    for cell, w in zip(ens.cells, ens.weights, strict=True):
        mix[cell.spec.doctrine.kind] += float(w)
    return dict(mix)


def test_the_later_era_differs_only_in_the_first_officers_doctrine() -> None:
    early, late = load_era_ensemble("2000-2013"), load_era_ensemble("2014-2019")
    assert doctrine_mix("2000-2013") == pytest.approx({"solo_entry": 0.3, "wait_for_n": 0.4, "hesitate": 0.3})
    assert doctrine_mix("2014-2019") == pytest.approx({"solo_entry": 0.6, "wait_for_n": 0.3, "hesitate": 0.1})
    assert late.version != early.version and late.sha256 != early.sha256
    assert [c.spec.name for c in late.cells] == [c.spec.name for c in early.cells]
    for a, b in zip(early.cells, late.cells, strict=True):  # same situations, same arrival times
        assert a.spec.building == b.spec.building and a.spec.responders == b.spec.responders
        assert a.spec.attacker == b.spec.attacker and a.spec.alerting == b.spec.alerting


def test_era_file_errors(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(
        (Path(__file__).resolve().parents[2] / "src/responsesim/data/ensemble.toml").read_text()
    )
    bad = tmp_path / "era.toml"
    bad.write_text('version = "x"\nbase = "base.toml"\n[doctrine_weight]\nsolo_entry = 1.0\n')
    with pytest.raises(EnsembleError, match="each base doctrine kind once"):
        load_ensemble(bad)
    bad.write_text('version = "x"\nbase = "missing.toml"\n')
    with pytest.raises(EnsembleError, match=r"missing\.toml"):
        load_ensemble(bad)
    ok = tmp_path / "ok.toml"
    ok.write_text(
        'version = "x"\nbase = "base.toml"\n[doctrine_weight]\nsolo_entry = 1\nwait_for_n = 1\nhesitate = 2\n'
        "[patrol]\nfirst_median_s = 120\n"
    )
    ens = load_ensemble(ok)
    assert {c.spec.responders.patrol.first_median_s for c in ens.cells} == {120.0}
    with pytest.raises(EnsembleError, match="unknown era"):
        load_era_ensemble("1990s")


@pytest.fixture(scope="module")
def result(reference_path):  # type: ignore[no-untyped-def]
    return era_test(incidents_n=4000, seed=2024, workers=1)


def test_check_simulates_the_held_out_targets_with_the_later_era(result, reference_path) -> None:  # type: ignore[no-untyped-def]
    """`calibrate --check`'s held-out ending rows are the era test's 2014-2019 column (same seed), and
    passing the 2000-2013 ensemble as held_ensemble gives its 2000-2013 column."""
    late = check(incidents_n=4000, seed=2024, workers=1)
    assert late.to_json()["held_out_ensemble"]["source"].endswith("ensemble_2014_2019.toml")
    same = check(incidents_n=4000, seed=2024, workers=1, held_ensemble=load_era_ensemble("2000-2013"))
    for out, era in ((late, "2014_2019"), (same, "2000_2013")):
        rows = out.comparison[out.comparison["set"] == HELD_SET].set_index("name")
        for r in result.table.itertuples():
            assert rows.loc[f"ending_share.{r.ending}", "simulated"] == getattr(r, f"sim_{era}")


def test_era_test_table_and_the_later_inputs_effect(result) -> None:  # type: ignore[no-untyped-def]
    """More solo entry (same arrivals, same parameters) ends more attacks by police fire and none sooner
    before police: the police-shot share rises by more than its Monte Carlo noise, the before-police share
    moves by less. Tolerances from the simulations' Wilson intervals (4,000 attempts, seed 2024, as
    `calibrate --check`)."""
    t = result.table.set_index("ending")
    assert set(t.index) == set(ENDING_CLASSES)
    for era in ("2000_2013", "2014_2019"):
        assert t[f"sim_{era}"].sum() == pytest.approx(1.0)
        assert (t[f"lo_{era}"] <= t[f"sim_{era}"]).all() and (t[f"sim_{era}"] <= t[f"hi_{era}"]).all()
    shot = t.loc["police_shot"]
    half = (shot["hi_2000_2013"] - shot["lo_2000_2013"]) / 2
    assert shot["sim_2014_2019"] - shot["sim_2000_2013"] > half  # a real rise, not noise
    before = t.loc["attacker_before_police"]
    assert abs(before["sim_2014_2019"] - before["sim_2000_2013"]) < (
        before["hi_2000_2013"] - before["lo_2000_2013"]
    )
    # the observed columns are the data's: 2014-2019 Wilson intervals over the 116 in-scope incidents
    k = round(shot["observed"] * 116)
    assert (shot["ci_low"], shot["ci_high"]) == pytest.approx(wilson(k, 116))
    for era in ERAS:
        assert 0 <= result.inside(era) <= 7
    md = result.markdown()
    assert md.count("\n| `") == 7 and "2014-2019 inputs" in md and not math.isnan(shot["sim_2014_2019"])


def test_era_command_prints_the_table(capsys, reference_path) -> None:  # type: ignore[no-untyped-def]
    assert main(["--validation", "200", "--workers", "1"]) == 0
    out = capsys.readouterr().out
    assert "ensemble_2014_2019.toml" in out and "| `police_shot` |" in out
