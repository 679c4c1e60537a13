"""The medical counterfactual (issue 25 item 4): rescue reaching the casualties N s after the attack ended,
with the attack as it was; its own delay curve; lives from stopping the killing and from stopping the dying
side by side."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from review_helpers import HEADER, T0, timed_row, write_incident
from scipy import stats
from typer.testing import CliRunner

from responsesim.cli import app
from responsesim.review.counterfactual import run_counterfactual
from responsesim.review.errors import ReviewInputError
from responsesim.review.record import read_record
from responsesim.review.survival import apply_care, draw_people
from responsesim.review.timeline import load_timeline

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "examples" / "protocols" / "post1999_doctrine.toml"


def _row(t_s: float, actor: str, role: str, event: str, location: str = "hall 3", detail: str = "") -> str:
    return timed_row(t_s, actor, role, event, location, detail)


def _timeline(tmp_path: Path, care_s: float = 3600) -> Path:
    """Killed in hall 3: three at once (60-180 s), four at the scene (240-420 s); stopped at 600 s; care
    reaches hall 3 at ``care_s``; P1 arrived at 60 s and held outside."""
    rows = [_row(0, "ATTACKER", "attacker", "entered_building", "west door"),
            _row(5, "ATTACKER", "attacker", "shots_fired"),
            _row(60, "P1", "patrol", "arrived_on_scene", "west door"),
            _row(70, "P1", "patrol", "took_cover", "west door"),
            _row(600, "ATTACKER", "attacker", "attacker_stopped"),
            _row(care_s, "MEDICS", "ems", "casualty_care_started")]  # fmt: skip
    for k in range(1, 8):
        died = "at_once" if k <= 3 else "at_scene"
        rows.append(_row(60 * k, f"V{k}", "victim", "victim_killed", detail=f"count=1 died={died}"))
    (tmp_path / "timeline.csv").write_text(HEADER + "".join(sorted(rows)))
    return tmp_path / "timeline.csv"


def _incident(tmp_path: Path, counterfactual: str, care_s: float = 3600) -> Path:
    _timeline(tmp_path, care_s)
    return write_incident(
        tmp_path,
        name="medical",
        replications=2000,
        seed=9,
        counterfactual=counterfactual,
        curve_points=6,
    )


def test_care_after_the_end_follows_the_formula(tmp_path: Path) -> None:
    """One person at the scene hit at 0 s, care recorded at 3,600 s, attack over at 600 s: care at the end
    plus 0 s lets them live with q (S(600) - S(3600)) / (1 - S(3600)) (within 4 binomial SE, 20,000 draws);
    care at the end plus 3,000 s or later is the record (nobody)."""
    p = tmp_path / "t.csv"
    p.write_text(HEADER + _row(0, "ATTACKER", "attacker", "entered_building")
                 + _row(0, "V", "victim", "victim_killed", detail="count=1 died=at_scene care=11:00:00")
                 + _row(600, "ATTACKER", "attacker", "attacker_stopped"))  # fmt: skip
    rec = read_record(load_timeline(p), T0)
    n, q = 20000, 0.3
    people = draw_people(rec, n, 4, np.full(n, 1800.0), np.full(n, 0.8), 180.0, 0.5,
                         {"potentially_survivable": (q, q)})  # fmt: skip
    s = stats.lognorm(s=0.8, scale=1800.0).sf
    want = q * (s(600.0) - s(3600.0)) / (1 - s(3600.0))
    got = apply_care(rec, people, 600.0)
    assert abs(got.survived_care.mean() - want) < 4 * math.sqrt(want * (1 - want) / n)
    assert (got.not_shot == 0).all() and (got.wounded_not_shot == 0).all()
    assert (apply_care(rec, people, 3600.0).survived_care == 0).all()


def test_stopping_the_dying_beside_stopping_the_killing(tmp_path: Path) -> None:
    """Both changes at once: two answers over the same draws. The care curve never rises with the delay
    (the same draws at every delay, so each person saved at a later delay is saved at an earlier one: exact),
    starts at the figure of care at the end plus 0 s, and ends at the record (0); the people killed at once
    are never saved by care."""
    path = _incident(tmp_path, "P1:entered_building@+0s")
    r = run_counterfactual(path, ["P1:entered_building@+0s", "RESCUE:care_after_end@+0s"])
    m = r.medical
    assert m is not None and m.changed and m.no_change is None
    c = m.curve
    assert c.delay_s.iloc[0] == 0 and c.delay_s.iloc[-1] == pytest.approx(m.far_s)
    assert m.far_s == pytest.approx(3000)  # care recorded at 3,600 s, the end at 600 s
    assert (np.diff(c.lives_saved.to_numpy()) <= 1e-12).all()
    assert c.lives_saved.iloc[0] == pytest.approx(m.lives_saved.mean) and c.lives_saved.iloc[-1] == 0
    assert m.lives_saved.mean > 0
    at_once = [k for k, cas in enumerate(r.record.casualties) if cas.died == "at_once"]
    assert (m.effect.row_survived[:, at_once] == 0).all()
    side = r.to_json()["side_by_side"]
    assert side["stopping_the_killing"]["mean"] == pytest.approx(r.lives_saved.mean, abs=1e-4)
    assert side["stopping_the_dying"]["mean"] == pytest.approx(m.lives_saved.mean, abs=1e-4)
    assert "Stopping the dying: had rescue reached the casualties 0 s after the attack ended" in r.summary()
    assert "from stopping the killing" in r.summary()


def test_care_only_is_a_counterfactual_of_its_own(tmp_path: Path) -> None:
    """Only the care side changes: no engine run, the police side says it was not asked, the JSON carries
    the medical answer and stopping_the_killing null; the CLI prints both tables' care part, exit 0."""
    path = _incident(tmp_path, "RESCUE:care_after_end@+120s")
    r = run_counterfactual(path)
    assert not r.units and not r.stops.simulated and r.medical is not None
    js = r.to_json()
    assert js["side_by_side"]["stopping_the_killing"] is None
    assert js["medical"]["care_at"] == "10:12:00" and js["medical"]["changed"] is True
    assert r.summary().startswith("Stopping the dying: had rescue reached")
    args = ["review", str(tmp_path / "timeline.csv"), "--protocol", str(PROTOCOL), "--incident", str(path)]
    out = CliRunner().invoke(app, [*args, "-n", "200", "--json"])
    assert out.exit_code == 0, out.output
    assert (
        json.loads(out.stdout)["counterfactual"]["medical"]["counterfactual"] == "RESCUE:care_after_end@+120s"
    )
    report = tmp_path / "out" / "r.html"
    text = CliRunner().invoke(app, [*args, "-n", "200", "--report", str(report)])
    assert text.exit_code == 0, text.output
    assert "lives saved, side by side" in text.stdout and "stopping the dying" in text.stdout
    html = report.read_text()
    assert "Stopping the dying" in html and "data:image/png;base64" in html


def test_care_already_at_the_end_says_no_change(tmp_path: Path) -> None:
    """Care recorded as the attack ended: rescue at the end plus 0 s changes nothing, and says so."""
    path = _incident(tmp_path, "RESCUE:care_after_end@+0s", care_s=600)
    r = run_counterfactual(path)
    m = r.medical
    assert m is not None and not m.changed and m.far_s == 0
    assert "the record's care already reached every casualty" in (m.no_change or "")
    assert (m.effect.survived_care == 0).all()
    assert "Stopping the dying: no change" in r.summary()


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        (["RESCUE:care_after_end@+60s", "RTF:care_after_end@+0s"], "at most one change of the care side"),
        (["RESCUE:care_after_end"], "give the delay"),
        (["RESCUE:care_before_end@+0s"], "care_after_end"),
    ],
)
def test_bad_care_change_is_refused(tmp_path: Path, spec: list[str], words: str) -> None:
    path = _incident(tmp_path, "RESCUE:care_after_end@+0s")
    with pytest.raises(ReviewInputError) as e:
        run_counterfactual(path, spec)
    assert words in str(e.value) and e.value.field == "counterfactual"
