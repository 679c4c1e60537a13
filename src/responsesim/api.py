"""Python API mirroring the CLI: load a scenario, run it, get a DataFrame of outcomes and summaries.

>>> import responsesim as rs
>>> sc = rs.load_scenario()                 # built-in default, or a path to a TOML file
>>> res = rs.run(sc, replications=200)
>>> res.outcomes.deaths.mean(), res.summary_table()
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import platform
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from responsesim.analysis.incidents import Attempts, attempts, incident_columns, incidents
from responsesim.analysis.summary import (
    Summary,
    end_reason_shares,
    summarize,
    summary_frame,
    summary_json,
    wilson_ci,
    with_parameter_uncertainty,
)
from responsesim.engine.backend import check_backend
from responsesim.engine.run import Running, outcome_columns, start
from responsesim.engine.version import model_version
from responsesim.params import CalibratedParams, default_calibration_text
from responsesim.posterior import load_posterior
from responsesim.sanity import extrapolation_warnings
from responsesim.scenario.load import Scenario, load_scenario

if TYPE_CHECKING:  # pandas is imported when a DataFrame is asked for (``responsesim run`` needs none)
    import pandas as pd

    from responsesim.store import RunMeta

BACKEND = "numba"  # the engine (one compiled engine; the name is stored with every run)
DEFAULT_CHUNK_SIZE = 1000
_DEFAULT_CALIBRATION = "responsesim/data/calibration.toml"  # CalibratedParams.source of the shipped file
_GIT_TIMEOUT_S = 5.0
# the parts of a checkout whose changes can change a number: "+dirty" means one of them differs from HEAD
_SOURCE_PATHS = ("src", "pyproject.toml")


def package_version() -> str:
    """The installed package version (``unknown`` if the package metadata is missing)."""
    try:
        return metadata.version("responsesim")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "unknown"


def _checkout_root() -> Path | None:
    """The git work tree this package's source lies in (an editable install), else None."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / ".git").exists():
            return parent
    return None


def _read_head(root: Path) -> str | None:
    """The commit of HEAD read from ``.git`` files (fallback when the ``git`` program is unavailable)."""
    git = root / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: PATH"
            git = (root / git.read_text().split(":", 1)[1].strip()).resolve()
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head
        ref = head.split(":", 1)[1].strip()
        for base in (git, git / "commondir"):
            if base.name == "commondir" and base.is_file():
                base = (git / base.read_text().strip()).resolve()
            if (base / ref).is_file():
                return (base / ref).read_text().strip()
            packed = base / "packed-refs"
            if packed.is_file():
                for line in packed.read_text().splitlines():
                    if line.endswith(" " + ref):
                        return line.split()[0]
    except OSError:
        return None
    return None


@functools.cache
def git_revision() -> tuple[str | None, bool | None]:
    """(commit of HEAD, whether ``src``/``pyproject.toml`` differ from it) of the checkout the package
    runs from; (None, None) for an installed package. Cached: asked once per process (git with a 5 s
    timeout; without git, HEAD is read from ``.git`` and dirtiness is unknown)."""
    root = _checkout_root()
    if root is None:
        return None, None
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=_GIT_TIMEOUT_S, check=True,
        ).stdout.strip()  # fmt: skip
        status = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", *_SOURCE_PATHS],
            capture_output=True, text=True, timeout=_GIT_TIMEOUT_S, check=True,
        ).stdout  # fmt: skip
        return commit or None, bool(status.strip())
    except (OSError, subprocess.SubprocessError):
        return _read_head(root), None


def code_version() -> str:
    """Package version plus, in a git checkout, the commit: ``0.1.0+git.1a2b3c4d5e6f`` and ``+dirty``
    when the package source differs from that commit (its numbers may then not be reproducible)."""
    commit, dirty = git_revision()
    if commit is None:
        return package_version()
    return f"{package_version()}+git.{commit[:12]}" + ("+dirty" if dirty else "")


@functools.cache
def environment() -> dict[str, str]:
    """Interpreter, numpy and platform versions (they can change floating-point results)."""
    return {
        "python_version": sys.version.split()[0],
        "numpy_version": np.__version__,
        "platform": platform.platform(),
    }


def calibration_text(cal: CalibratedParams) -> tuple[str, bool]:
    """The text of the calibration file ``cal`` was read from, and True if its SHA-256 matches.

    When the file cannot be read or has changed since it was loaded, a TOML text is rebuilt from the
    values (which include any scenario ``[model]`` overrides; re-applying them changes nothing), and
    False is returned: that text reproduces the run's numbers but not the file's hash."""
    if cal.source == _DEFAULT_CALIBRATION:
        read: Callable[[], str] = default_calibration_text
    else:
        read = functools.partial(Path(cal.source).read_text, encoding="utf-8")
    try:
        text = read()
        if hashlib.sha256(text.encode()).hexdigest() == cal.sha256:
            return text, True
    except (OSError, UnicodeDecodeError):
        pass
    version = cal.version.removesuffix("+overrides")
    lines = [
        f"# rebuilt from the values of calibration {cal.version} (file {cal.source}, sha256 {cal.sha256})",
        f"version = {json.dumps(version)}",
        f"fitted = {'true' if cal.fitted else 'false'}",
        "[params]",
        *(f"{k} = {float(v)!r}" for k, v in cal.values.items()),
    ]
    return "\n".join(lines) + "\n", False


def input_files(scenario: Scenario) -> dict[str, dict[str, str]]:
    """Files the scenario TOML refers to (the building ``file``), keyed as written in the TOML: the
    resolved path, SHA-256 and full text, so a stored run can be re-run without them."""
    bfile = scenario.spec.building.file
    if bfile is None:
        return {}
    path = Path(bfile)
    if not path.is_absolute() and scenario.base_dir is not None:
        path = scenario.base_dir / path
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):  # read once already by load_scenario; gone since
        return {bfile: {"path": str(path.resolve()), "sha256": "", "text": ""}}
    digest = hashlib.sha256(text.encode()).hexdigest()
    return {bfile: {"path": str(path.resolve()), "sha256": digest, "text": text}}


@dataclass(frozen=True)
class RunResult:
    """Outcomes (one row per replication) of a scenario run, with their summaries and provenance.

    ``columns`` holds the outcome table as NumPy arrays (``engine.run.OUTCOME_COLUMNS``, with ``draw``
    after ``rep``); ``outcomes`` is the same table as a pandas DataFrame, made on first use."""

    scenario: Scenario
    replications: int
    seed: int
    columns: Mapping[str, np.ndarray]
    summaries: tuple[Summary, ...]
    backend: str = BACKEND
    chunk_size: int | None = None  # replications per chunk (the numbers never depend on it)
    draws: ParameterDraws | None = None  # posterior draws of the model parameters, or a point estimate

    @functools.cached_property
    def outcomes(self) -> pd.DataFrame:
        """The outcome table: one row per replication."""
        import pandas as pd

        return pd.DataFrame(dict(self.columns))

    def summary_table(self) -> pd.DataFrame:
        return summary_frame(list(self.summaries))

    @property
    def incidents(self) -> pd.DataFrame:
        """The replications that are incidents (a shot was fired); every figure is computed on these."""
        return incidents(self.outcomes)

    @property
    def attempts(self) -> Attempts:
        """How many simulated attempts became incidents (``analysis.incidents``)."""
        return attempts(self.columns)

    def to_json(self) -> dict[str, Any]:
        """The JSON object printed by ``responsesim run --json`` (keys documented in the README)."""
        inc = incident_columns(self.columns)
        reasons = end_reason_shares(inc)
        return summary_json(
            list(self.summaries),
            {
                "scenario": self.scenario.spec.name,
                "scenario_source": self.scenario.source,
                "scenario_hash": self.scenario.sha256,
                "replications": self.replications,
                "seed": self.seed,
                "confidence": 0.95,
                **self.attempts.to_json(),
                "end_reasons": {
                    k: {"share": v[0], "ci_low": v[1], "ci_high": v[2]} for k, v in reasons.items()
                },
                "long_attacks": long_attacks(inc),
                "calibration": {
                    "version": self.scenario.calibration.version,
                    "sha256": self.scenario.calibration.sha256,
                    "fitted": self.scenario.calibration.fitted,
                    "key": self.scenario.calibration.key,
                },
                "model_version": model_version(),
                "uncertainty": (self.draws or ParameterDraws("point")).to_json(),
                "backend": self.backend,
                "code_version": code_version(),
                "warnings": extrapolation_warnings(self.scenario),
            },
        )

    def meta(self) -> RunMeta:  # the store (DuckDB) is imported only when a run is stored
        """Everything needed to re-run this run (``responsesim reproduce``) and to tell what ran it."""
        from responsesim.store import RunMeta

        commit, dirty = git_revision()
        cal = self.scenario.calibration
        cal_text, _ = calibration_text(cal)
        files = input_files(self.scenario)
        return RunMeta(
            scenario_name=self.scenario.spec.name,
            scenario_hash=self.scenario.sha256,
            scenario_toml=self.scenario.text,
            seed=self.seed,
            replications=self.replications,
            backend=self.backend,
            code_version=code_version(),
            calibration_hash=cal.sha256,
            git_commit=commit,
            git_dirty=dirty,
            calibration_version=cal.version,
            calibration_toml=cal_text,
            chunk_size=self.chunk_size,
            scenario_source=self.scenario.source,
            scenario_dir=str(self.scenario.base_dir.resolve()) if self.scenario.base_dir else None,
            input_files_json=json.dumps(files, sort_keys=True) if files else None,
            calibration_key=cal.key,
            model_version=model_version(),
            parameter_draws_json=(self.draws or ParameterDraws("point")).stored(),
            **environment(),
        )

    def save(self, path: Path) -> str:
        """Write one row per replication (and the run's metadata) to a DuckDB file; returns the run id."""
        from responsesim.store import ResultStore

        with ResultStore(path) as store:
            return store.write_run(self.meta(), self.outcomes, self.to_json())


DEFAULT_DRAWS = 100  # posterior draws per run (replications are spread evenly over them)
MIN_REPS_PER_DRAW = 20  # fewer replications per draw cannot separate parameter uncertainty from chance


def long_attacks(inc: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Shares of incidents (with Wilson 95% intervals) that lasted 10 minutes or more after the first shot
    and in which the attacker barricaded itself in a room (the long tail the FBI data holds)."""
    n = len(inc["attack_duration_s"])
    out = {}
    for key, hit in (
        ("lasted_10min_plus", np.asarray(inc["attack_duration_s"], float) >= 600.0),
        ("barricaded", ~np.isnan(np.asarray(inc["barricade_s"], float))),
    ):
        k = int(hit.sum())
        low, high = wilson_ci(k, n) if n else (math.nan, math.nan)
        out[key] = {"share": k / n if n else math.nan, "ci_low": low, "ci_high": high}
    return out


@dataclass(frozen=True)
class ParameterDraws:
    """Which posterior draw each replication runs at: ``draw[r]`` for replication ``r`` (0-based), and the
    per-replication parameter values to pass to the engine. ``mode``: "posterior" or "point"."""

    mode: str
    draw: np.ndarray | None = None
    theta: dict[str, np.ndarray] | None = None
    n_draws: int = 0
    posterior_version: str = ""
    effective_size: float = math.nan
    reason: str = ""
    values: dict[str, list[float]] | None = None  # per draw: the parameter values it ran at

    def stored(self) -> str | None:
        """JSON of the draws (stored with a run, so ``reproduce`` needs no posterior file)."""
        if self.mode != "posterior" or self.values is None:
            return None
        return json.dumps({"posterior_version": self.posterior_version, "draws": self.n_draws,
                           "effective_size": self.effective_size, "values": self.values})  # fmt: skip

    @staticmethod
    def spread(
        values: dict[str, list[float]], version: str, effective_size: float, reps: np.ndarray
    ) -> ParameterDraws:
        """Posterior draws (``values[name][d]``: the value of draw ``d``) for replications ``reps``:
        replication ``r`` runs at draw ``r % n_draws`` (the one rule for runs, sweeps, reproduce, replay)."""
        k = len(next(iter(values.values())))
        draw = np.asarray(reps, dtype=np.int64) % k
        theta = {name: np.asarray(v, dtype=float)[draw] for name, v in values.items()}
        return ParameterDraws("posterior", draw, theta, k, version, effective_size, "", values)

    @staticmethod
    def from_stored(text: str, reps: np.ndarray) -> ParameterDraws:
        """The draws of a stored run (``stored``), for its replications ``reps``."""
        doc = json.loads(text)
        values = {name: [float(x) for x in v] for name, v in doc["values"].items()}
        version = str(doc.get("posterior_version", ""))
        return ParameterDraws.spread(values, version, float(doc.get("effective_size", math.nan)), reps)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"mode": self.mode}
        if self.mode == "posterior":
            out.update(
                draws=self.n_draws,
                posterior_version=self.posterior_version,
                effective_sample_size=round(self.effective_size, 1),
                note="ci_low/ci_high cover the calibration's parameter uncertainty and chance (the spread of "
                "the expected value across posterior draws, from a random-effects decomposition, plus the "
                "pooled mean's standard error; normal approximation); mc_low/mc_high: chance alone",
            )
        else:
            out["note"] = self.reason or "every replication at the calibration's point estimate"
        return out


def parameter_draws(
    sc: Scenario, n: int, uncertainty: str = "posterior", draws: int = DEFAULT_DRAWS
) -> ParameterDraws:
    """Spread ``n`` replications over up to ``draws`` posterior draws, at least ``MIN_REPS_PER_DRAW`` per
    draw (seeded by the scenario's seed, so paired runs with the same seed use the same draws); a
    point-estimate run when asked, when the calibration has no posterior, or with too few replications."""
    if uncertainty not in ("posterior", "point"):
        raise ValueError(f"uncertainty must be 'posterior' or 'point', not {uncertainty!r}")
    if uncertainty == "point":
        why = "--point-estimate: every replication at the calibration's values"
        return ParameterDraws("point", reason=why)
    post = load_posterior(sc.calibration)
    if post is None:
        why = "the calibration has no posterior" + (
            " (its values are overridden by the scenario)" if "+overrides" in sc.calibration.version else ""
        )
        return ParameterDraws("point", reason=f"{why}: every replication at the calibration's values")
    k = min(draws, n // MIN_REPS_PER_DRAW)
    if k < 2:
        return ParameterDraws(
            "point",
            reason=f"too few replications ({n}) to spread over posterior draws (at least "
            f"{2 * MIN_REPS_PER_DRAW} needed): every replication at the calibration's values",
        )
    chosen = post.draw(k, seed=sc.spec.seed)
    values = {name: [float(x) for x in post.particles[chosen, j]] for j, name in enumerate(post.names)}
    return ParameterDraws.spread(values, post.meta.get("version", ""), post.effective_size(), np.arange(n))


def run(
    scenario: Scenario | str | Path | None = None,
    *,
    replications: int | None = None,
    seed: int | None = None,
    workers: int | None = 1,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
    backend: str = BACKEND,
    uncertainty: str = "posterior",
    draws: ParameterDraws | None = None,
) -> RunResult:
    """Run a scenario (object, path, or None for the default) and summarise its outcomes.

    ``uncertainty``: "posterior" (default) draws each replication's model parameters from the
    calibration's posterior and reports intervals covering parameter uncertainty and chance; "point"
    runs every replication at the calibration's values (Monte Carlo intervals only).
    ``backend`` names the engine backend (``numba``, the only one); ``ValueError`` if it is unknown or this
    engine cannot run it."""
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    sc = sc.with_run_settings(replications, seed)
    check_backend(backend)
    pd_ = draws if draws is not None else parameter_draws(sc, sc.spec.replications, uncertainty)
    running = start(sc.params, sc.spec.replications, chunk_size=chunk_size, workers=workers, theta=pd_.theta)
    return finish_run(sc, running, progress=progress, backend=backend, chunk_size=chunk_size, draws=pd_)


def finish_run(
    sc: Scenario,
    running: Running,
    *,
    progress: Callable[[int], None] | None = None,
    backend: str = BACKEND,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    draws: ParameterDraws | None = None,
) -> RunResult:
    """The ``RunResult`` of a run started with ``engine.run.start`` on ``sc.params`` (its settings)."""
    reps, out = running.arrays(progress)
    n = sc.spec.replications
    draws = draws or ParameterDraws("point")
    cols = outcome_columns(reps, out)
    # the posterior draw each replication ran at (-1: the calibration's point estimate)
    draw = draws.draw.astype(np.int64) if draws.draw is not None else np.full(len(reps), -1, dtype=np.int64)
    table = {"rep": cols.pop("rep"), "draw": draw, **cols}
    inc = incident_columns(table)
    summaries = summarize(inc)
    if draws.draw is not None:
        summaries = with_parameter_uncertainty(summaries, inc, inc["draw"])
    return RunResult(sc, n, sc.spec.seed, table, tuple(summaries), backend=backend, chunk_size=chunk_size,
                     draws=draws)  # fmt: skip


__all__ = [
    "RunResult",
    "Scenario",
    "code_version",
    "environment",
    "finish_run",
    "git_revision",
    "load_scenario",
    "run",
]
