"""Sweep file validation: every error names the file, the field and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from responsesim.sweep import SweepError, load_sweep, parse_sweep

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "sweeps"


def _write(d: Path, text: str) -> Path:
    (d / "base.toml").write_text("horizon_s = 600\n")
    p = d / "s.toml"
    p.write_text(text)
    return p


HEAD = '[sweep]\nname = "t"\nbase = "base.toml"\nreplications_per_point = 4\nchunk_size = 2\n'


@pytest.mark.parametrize(
    ("body", "field", "line", "message"),
    [
        (
            '[sweep]\nname = "t"\n\n[[parameter]]\npath = "doctrine.delay_s"\nvalues = [1]\n',
            "sweep.replications_per_point",
            1,
            "required and missing",
        ),
        (
            HEAD.replace("= 4", "= 0") + '[[parameter]]\npath = "doctrine.delay_s"\nvalues = [1]\n',
            "sweep.replications_per_point",
            4,
            "must be at least 1",
        ),
        (
            HEAD + '[[parameter]]\npath = "doctrine.delay_s"\nrange = [0, 60]\n',
            "parameter[0]",
            6,
            "needs a 'step'",
        ),
        (
            HEAD + '[[parameter]]\npath = "doctrine.delay_s"\nrange = [0, 60]\nstep = 5\nvalues = [1]\n',
            "parameter[0]",
            6,
            "either 'values' or 'range'",
        ),
        (
            HEAD + '[[parameter]]\npath = "doctrine.delay_s"\nrange = [60, 0]\nstep = 5\n',
            "parameter[0]",
            6,
            "low <= high",
        ),
        (HEAD + '[[parameter]]\npath = "doctrine.delay_s"\nvalues = []\n', "parameter[0]", 6, "empty"),
        (
            HEAD + '[[parameter]]\npath = "doctrine.dealy_s"\nvalues = [1]\n',
            "parameter[0].path",
            7,
            "unknown scenario field 'doctrine.dealy_s'",
        ),
        (
            HEAD + '[[parameter]]\npath = "respondrs.sro.armed"\nvalues = [true]\n',
            "parameter[0].path",
            7,
            "unknown scenario field 'respondrs'",
        ),
        (
            HEAD + '[[parameter]]\npath = "horizon_s"\nvalues = [600]\n\n[[parameter]]\n'
            'path = "doctrine.delay_s"\nvalues = [0, -5]\n',
            "parameter[1].values",
            12,
            "doctrine.delay_s",
        ),
        (
            HEAD + '[[parameter]]\npath = "doctrine.kind"\nvalues = ["charge"]\n',
            "parameter[0].values",
            8,
            "doctrine.kind",
        ),
        (HEAD + '[[parameter]]\npath = "seed"\nvalues = [1]\n', "parameter[0].path", 7, "set by the sweep"),
        (
            HEAD + '[[parameter]]\npath = "horizon_s"\nvalues = [1]\n[[parameter]]\npath = "horizon_s"\n'
            "values = [2]\n",
            "parameter[1].path",
            10,
            "given twice",
        ),
        (
            HEAD + '[[parameter]]\npath = "horizon_s"\nvalues = [600]\n[sampling]\nmethod = "lhs"\nn = 4\n',
            "sampling",
            9,
            "at least one parameter with a 'range'",
        ),
        (
            HEAD + '[[parameter]]\npath = "horizon_s"\nrange = [1, 2]\n[sampling]\nmethod = "grid"\nn = 4\n',
            "sampling.method",
            10,
            "'lhs' or 'sobol'",
        ),
        (
            HEAD + '[[parameter]]\npath = "horizon_s"\nvalues = [600]\nbogus = 1\n',
            "parameter[0].bogus",
            9,
            "unknown key",
        ),
        (
            HEAD.replace('"base.toml"', '"missing.toml"')
            + '[[parameter]]\npath = "horizon_s"\nvalues = [600]\n',
            "sweep.base",
            3,
            "cannot read",
        ),
    ],
)
def test_validation_errors(tmp_path, body, field, line, message):
    p = _write(tmp_path, body)
    with pytest.raises(SweepError) as info:
        load_sweep(p)
    e = info.value
    assert e.file == str(p)
    assert e.field == field
    assert e.line == line
    assert message in e.message
    assert str(e).startswith(f"{p}:{line}: {field}: ")


def test_toml_syntax_error_has_line(tmp_path):
    p = _write(tmp_path, HEAD + "[[parameter]\n")
    with pytest.raises(SweepError) as info:
        load_sweep(p)
    assert info.value.line == 6 and "TOML syntax error" in info.value.message


def test_missing_file(tmp_path):
    with pytest.raises(SweepError, match="cannot read sweep file"):
        load_sweep(tmp_path / "nope.toml")


def test_grid_points_and_ids(tmp_path):
    p = _write(
        tmp_path,
        HEAD + '[[parameter]]\npath = "doctrine.delay_s"\nrange = [0, 600]\nstep = 30\n'
        '[[parameter]]\npath = "alerting.lockdown_at_s"\nvalues = [60, "never"]\n',
    )
    s = load_sweep(p)
    assert len(s.points) == 42
    assert [pt.values["doctrine.delay_s"] for pt in s.points[::2]] == list(range(0, 601, 30))
    assert s.points[1].values == {"doctrine.delay_s": 0, "alerting.lockdown_at_s": "never"}
    assert s.points[1].scenario.spec.alerting.lockdown_at_s is None
    assert s.points[2].scenario.spec.doctrine.delay_s == 30.0
    assert all(pt.scenario.spec.horizon_s == 600 for pt in s.points)  # from the base scenario
    assert s.chunk_ranges() == [(0, 0, 2), (1, 2, 2)]
    assert load_sweep(p).sweep_id == s.sweep_id
    assert load_sweep(p, seed=5).sweep_id != s.sweep_id
    assert load_sweep(p, seed=5).points[0].scenario.spec.seed == 5


def test_optional_table_and_nested_paths(tmp_path):
    p = _write(
        tmp_path, HEAD + '[[parameter]]\npath = "responders.sro.doctrine.kind"\nvalues = ["no_entry"]\n'
    )
    s = load_sweep(p)
    sro = s.points[0].scenario.spec.responders.sro.doctrine
    assert sro is not None and sro.kind == "no_entry"


@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_sampling(tmp_path, method):
    p = _write(
        tmp_path,
        HEAD + '[[parameter]]\npath = "doctrine.delay_s"\nrange = [0, 600]\n'
        '[[parameter]]\npath = "responders.patrol.count"\nrange = [1, 8]\ninteger = true\n'
        '[[parameter]]\npath = "doctrine.kind"\nvalues = ["hesitate", "no_entry"]\n'
        f'[sampling]\nmethod = "{method}"\nn = 8\n',
    )
    s = load_sweep(p)
    assert len(s.points) == 16
    for pt in s.points:
        assert 0 <= pt.values["doctrine.delay_s"] <= 600
        assert isinstance(pt.values["responders.patrol.count"], int)
        assert 1 <= pt.values["responders.patrol.count"] <= 8
    assert [pt.values for pt in load_sweep(p).points] == [pt.values for pt in s.points]  # deterministic


def test_examples_load():
    e = load_sweep(EXAMPLES / "entry_delay.toml")
    assert len(e.points) == 21
    assert {pt.scenario.spec.doctrine.kind for pt in e.points} == {"hesitate"}
    assert [pt.scenario.spec.doctrine.delay_s for pt in e.points] == [float(x) for x in range(0, 601, 30)]
    s = load_sweep(EXAMPLES / "sro_lockdown.toml")
    assert len(s.points) == 8
    combos = {
        (pt.scenario.spec.responders.sro.armed, pt.scenario.spec.alerting.lockdown_at_s) for pt in s.points
    }
    assert combos == {(a, t) for a in (True, False) for t in (0.0, 60.0, 180.0, None)}


def test_parse_text_without_base_uses_default():
    s = parse_sweep(
        '[sweep]\nname = "d"\nreplications_per_point = 2\n[[parameter]]\npath = "horizon_s"\nvalues = [600]\n'
    )
    assert s.points[0].scenario.spec.building.template == "three_floor_school"


def test_base_with_nul_character_is_a_sweep_error() -> None:
    """Regression (fuzzing): 'base = "a\\u0000b.toml"' raised ValueError (embedded null byte)."""
    text = (
        '[sweep]\nname = "x"\nbase = "a\\u0000b.toml"\nreplications_per_point = 1\n'
        '[[parameter]]\npath = "doctrine.n"\nvalues = [1]\n'
    )
    with pytest.raises(SweepError) as exc:
        parse_sweep(text, "s.toml", Path("."))
    assert exc.value.field == "sweep.base" and exc.value.line == 3 and "NUL" in exc.value.message
