"""Summaries of replication outcomes for users: every figure comes with its uncertainty.

For counts and times: the mean with a Student-t confidence interval of the mean, plus the median and the
quartiles of the replications. For shares (boolean outcomes): the proportion with a Wilson score
interval. Missing values (NaN, None) are left out and counted in ``n_missing``.

An outcome table is a pandas DataFrame or a mapping of column name to NumPy array (what ``responsesim run``
summarises, so that the command line does without pandas' import); both give the same figures.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np

from responsesim.analysis.quantiles import normal_quantile, t_quantile  # not SciPy's: its import is slow

if TYPE_CHECKING:  # pandas is imported where a DataFrame is made or an unusual column read
    import pandas as pd

#: an outcome table: a DataFrame, or NumPy columns by name
Table: TypeAlias = "pd.DataFrame | Mapping[str, np.ndarray]"

Kind = Literal["count", "time", "share"]
KINDS: tuple[Kind, ...] = ("count", "time", "share")
NAN = float("nan")


#: fewer incidents than this and the intervals are rough: the CLI and the page say so
MIN_RELIABLE_N = 30


@dataclass(frozen=True)
class Metric:
    """One outcome column to summarize: ``unit`` is e.g. ``"people"``, ``"s"`` or ``""`` (shares).
    ``floor``: the smallest value the quantity can take (intervals never go below it); None if unbounded."""

    column: str
    label: str
    unit: str
    kind: Kind
    floor: float | None = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"metric {self.column!r}: kind must be one of {KINDS}, not {self.kind!r}")


DEFAULT_METRICS: tuple[Metric, ...] = (
    Metric("killed", "killed at once", "people", "count"),
    Metric("died_awaiting_care", "died awaiting care", "people", "count"),
    Metric("deaths", "deaths", "people", "count"),
    Metric("wounded", "wounded and survived", "people", "count"),
    Metric("evacuated", "evacuated", "people", "count"),
    Metric("attack_duration_s", "attack duration", "s", "time"),
    Metric("first_entry_s", "time to first officer entry (after first shot)", "s", "time", floor=None),
    Metric("median_time_to_care_s", "median time to care (critical casualties, from wounding)", "s", "time"),
    Metric("officers_shot", "officers shot", "officers", "count"),
    Metric("ended_before_police", "attack ended before police arrived", "", "share"),
)


@dataclass(frozen=True)
class Summary:
    """One metric over the replications (figures in ``unit``; shares as fractions 0-1).

    ``n``: replications with a value; ``n_missing``: without (e.g. no officer entered);
    ``mean`` with ``ci_low``/``ci_high``: confidence interval of the mean (Student t) or of the share
    (Wilson); ``median``, ``q25``, ``q75``: quartiles of the replications (NaN for shares).
    Figures that cannot be computed (no values; a CI from a single value) are NaN.
    """

    name: str
    label: str
    unit: str
    kind: Kind
    n: int
    n_missing: int
    mean: float
    ci_low: float
    ci_high: float
    median: float
    q25: float
    q75: float
    #: what ``ci_low``/``ci_high`` cover: "monte_carlo" (chance only, at one parameter point) or "total"
    #: (the calibration's parameter uncertainty and chance); with "total", ``mc_low``/``mc_high`` is the
    #: Monte Carlo part alone
    interval: str = "monte_carlo"
    mc_low: float = NAN
    mc_high: float = NAN

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of all fields; NaN becomes None."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, float) and math.isnan(value):
                value = None
            out[key] = value
        return out


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")


def wilson_ci(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for ``k`` successes in ``n`` trials; (NaN, NaN) if ``n == 0``."""
    _check_confidence(confidence)
    if n == 0:
        return NAN, NAN
    # the score interval (Wilson 1927), as scipy.stats.binomtest(k, n).proportion_ci(method="wilson")
    z = normal_quantile(0.5 + confidence / 2.0)
    z2 = z * z
    center = (k + z2 / 2.0) / (n + z2)
    half = z * math.sqrt(k * (n - k) / n + z2 / 4.0) / (n + z2)
    return max(0.0, center - half), min(1.0, center + half)


def t_ci(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """Student-t interval of the mean of ``values`` (no NaN); (NaN, NaN) for fewer than 2 values.

    ``mean ± t_{(1+confidence)/2, n-1} · s / sqrt(n)`` with ``s`` the sample standard deviation.
    """
    _check_confidence(confidence)
    n = len(values)
    if n < 2:
        return NAN, NAN
    if np.all(values == values[0]):  # constant: zero width exactly, not rounding noise
        return float(values[0]), float(values[0])
    mean = float(np.mean(values))
    sem = float(np.std(values, ddof=1)) / math.sqrt(n)
    half = t_quantile(0.5 + confidence / 2.0, n - 1) * sem
    return mean - half, mean + half


def column_array(table: Table, name: str) -> np.ndarray:
    """Column ``name`` of an outcome table as a NumPy array."""
    col = table[name]
    to_numpy = getattr(col, "to_numpy", None)  # a pandas Series
    return np.asarray(to_numpy() if to_numpy is not None else col)


def isna(values: np.ndarray) -> np.ndarray:
    """Where ``values`` are missing, as pandas' ``isna`` says (NaN, None, NaT, pd.NA)."""
    kind = values.dtype.kind
    if kind in "fc":
        return np.isnan(values)
    if kind in "biuSU":
        return np.zeros(values.shape, dtype=bool)
    if kind == "O" and all(isinstance(v, str) for v in values.flat):  # labels such as end_reason
        return np.zeros(values.shape, dtype=bool)
    import pandas as pd

    return np.asarray(pd.isna(values), dtype=bool)


def _as_bool(values: np.ndarray, name: str) -> np.ndarray:
    """Values (none missing) of a boolean column as a bool array; other values are an error."""
    if values.dtype.kind == "b":
        return values.astype(bool)
    bad = [v for v in values.astype(object) if not isinstance(v, bool | np.bool_) and v not in (0, 1)]
    if bad:
        raise ValueError(f"share column {name!r} must hold booleans, found {bad[0]!r}")
    return values.astype(bool)


def _as_float(values: np.ndarray, name: str, errors: Literal["raise", "coerce"] = "raise") -> np.ndarray:
    """Values of a numeric column as float64 (``errors="coerce"``: NaN where not a number)."""
    if values.dtype.kind in "biuf":
        return values.astype(float)
    import pandas as pd

    try:
        return pd.to_numeric(pd.Series(values, dtype=object), errors=errors).to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"column {name!r} must be numeric: {exc}") from exc


def _summarize_one(table: Table, metric: Metric, confidence: float) -> Summary:
    col = column_array(table, metric.column)
    missing = isna(col)
    n_missing = int(missing.sum())
    mean = low = high = median = q25 = q75 = NAN
    if metric.kind == "share":
        flags = _as_bool(col[~missing], metric.column)
        n, k = len(flags), int(flags.sum())
        if n:
            mean = k / n
            low, high = wilson_ci(k, n, confidence)
    else:
        values = _as_float(col[~missing], metric.column)
        n = len(values)
        if n:
            mean = float(values[0]) if np.all(values == values[0]) else float(np.mean(values))
            low, high = t_ci(values, confidence)
            if metric.floor is not None and not math.isnan(low):
                low = max(low, metric.floor)  # a mean of non-negative values is never negative
            q25, median, q75 = (float(q) for q in np.percentile(values, [25.0, 50.0, 75.0]))
    return Summary(
        name=metric.column,
        label=metric.label,
        unit=metric.unit,
        kind=metric.kind,
        n=n,
        n_missing=n_missing,
        mean=mean,
        ci_low=low,
        ci_high=high,
        median=median,
        q25=q25,
        q75=q75,
    )


def summarize(
    df: Table, metrics: Sequence[Metric] = DEFAULT_METRICS, confidence: float = 0.95
) -> list[Summary]:
    """One ``Summary`` per metric, in order, from an outcome table (one row per replication).

    ``confidence``: level of the intervals (0.95 = 95 %). A metric whose column is absent raises
    ``KeyError`` naming all absent columns.
    """
    _check_confidence(confidence)
    absent = [m.column for m in metrics if m.column not in df]
    if absent:
        raise KeyError(f"outcome columns not found: {', '.join(absent)}")
    return [_summarize_one(df, m, confidence) for m in metrics]


def parameter_spread(values: np.ndarray, draw: np.ndarray) -> tuple[float, float]:
    """(between-draw sd of the expected value, standard error of the pooled mean) from replications grouped
    by posterior draw: a one-way random-effects decomposition by the method of moments. The variance of
    the per-draw means holds the parameters' effect plus each draw's own Monte Carlo noise (the within-draw
    variance over the draw's replications); the latter is subtracted, so the spread that remains is what
    the calibration's uncertainty does to the expected value and does not shrink with more replications."""
    ok = ~np.isnan(values)
    v, d = values[ok], np.asarray(draw)[ok]
    _, group = np.unique(d, return_inverse=True)
    sizes = np.bincount(group).astype(float)
    k = sizes.size
    if k < 2:
        return NAN, NAN
    means = np.bincount(group, weights=v) / sizes
    var_means = float(np.var(means, ddof=1))
    dof = np.maximum(sizes - 1, 0)
    # each draw's sample variance (ddof 1; 0 for a draw with one replication)
    within = np.bincount(group, weights=(v - means[group]) ** 2) / np.maximum(dof, 1)
    s2_within = float((dof * within).sum() / dof.sum()) if dof.sum() > 0 else 0.0
    between = max(0.0, var_means - s2_within * float(np.mean(1.0 / sizes)))
    return math.sqrt(between), math.sqrt(var_means / k)


def parameter_half_width(values: np.ndarray, draw: np.ndarray, confidence: float = 0.95) -> float:
    """Half-width of the ``confidence`` interval of the mean of ``values`` covering parameter uncertainty and
    chance: ``z * sqrt(sd_between**2 + se**2)`` (``parameter_spread``; normal approximation); NaN when
    fewer than two draws have values."""
    between, se = parameter_spread(np.asarray(values, dtype=float), np.asarray(draw))
    if math.isnan(between):
        return NAN
    return normal_quantile(0.5 + confidence / 2.0) * math.sqrt(between**2 + se**2)


def with_parameter_uncertainty(
    summaries: Sequence[Summary], df: Table, draw: np.ndarray, confidence: float = 0.95
) -> list[Summary]:
    """Summaries whose interval covers the calibration's parameter uncertainty and chance ("total").

    ``draw[i]`` is the posterior draw (parameter point) row ``i`` of ``df`` ran at. The interval is
    ``mean +- z * sqrt(sd_between**2 + se**2)`` (``parameter_spread``; normal approximation), clipped to the
    quantity's range (>= 0; shares within 0-1). The Monte Carlo interval of the pooled mean is kept as
    ``mc_low``/``mc_high``.
    """
    _check_confidence(confidence)
    out = []
    for s in summaries:
        col = column_array(df, s.name)
        if s.kind == "share":  # a missing flag counts as False
            missing = isna(col)
            vals = np.zeros(len(col))
            vals[~missing] = _as_bool(col[~missing], s.name)
        else:
            vals = _as_float(col, s.name, errors="coerce")
        half = parameter_half_width(vals, draw, confidence)
        low = high = NAN
        if not math.isnan(half):
            low, high = max(0.0, s.mean - half), s.mean + half
            if not math.isnan(s.ci_low):  # never narrower than chance alone
                low, high = min(low, s.ci_low), max(high, s.ci_high)
            if s.kind == "share":
                high = min(1.0, high)
        out.append(replace(s, ci_low=low, ci_high=high, interval="total", mc_low=s.ci_low, mc_high=s.ci_high))
    return out


def summary_frame(summaries: Sequence[Summary]) -> pd.DataFrame:
    """The summaries as a table: one row per metric, indexed by ``name``, NaN kept as NaN."""
    import pandas as pd

    columns = list(Summary.__dataclass_fields__)
    frame = pd.DataFrame([asdict(s) for s in summaries], columns=columns)
    return frame.set_index("name")


def summary_json(summaries: Sequence[Summary], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A JSON-ready object ``{"metrics": {column: {...}}, **extra}``.

    Each ``metrics[column]`` holds ``name``, ``label``, ``unit``, ``kind``, ``n``, ``n_missing``,
    ``mean``, ``ci_low``, ``ci_high``, ``median``, ``q25``, ``q75`` (see ``Summary``; NaN as null).
    ``extra`` adds top-level keys (e.g. ``confidence``, ``replications``, ``end_reasons``); it may not
    contain ``"metrics"``.
    """
    extra = dict(extra or {})
    if "metrics" in extra:
        raise ValueError("extra may not contain the key 'metrics'")
    return {"metrics": {s.name: s.to_dict() for s in summaries}, **extra}


def end_reason_shares(
    df: Table, confidence: float = 0.95, column: str = "end_reason"
) -> dict[str, tuple[float, float, float]]:
    """Share of each ``end_reason`` value among replications that have one: ``{reason: (share, low, high)}``.

    Intervals are Wilson score intervals; reasons are ordered by decreasing share, then by name.
    """
    _check_confidence(confidence)
    values = column_array(df, column)
    counts = Counter(str(v) for v in values[~isna(values)])
    n = sum(counts.values())
    ordered = sorted(counts.items(), key=lambda kv: (-int(kv[1]), str(kv[0])))
    out: dict[str, tuple[float, float, float]] = {}
    for reason, k in ordered:
        low, high = wilson_ci(int(k), n, confidence)
        out[str(reason)] = (int(k) / n, low, high)
    return out
