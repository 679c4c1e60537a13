"""What an earlier end of the attack would have changed *for the people in the record*.

Given, per paired draw, the time ``t_stop`` (s) the protocol response would have stopped the attack (inf:
not before its recorded end), each casualty row is re-read against it (docs/model.md, *Counterfactual on
the record*):

- **Not shot.** Each of a row's ``count`` people was hit at a time ``u`` drawn uniformly in the row's window
  (the row's time when the sources give one). Those with ``u > t_stop`` would not have been shot.
- **Survived with earlier care.** A person killed before ``t_stop`` could have lived only if the wound was
  potentially survivable (share ``q``, published) and care came in time. Without care such a person dies
  ``D`` after the wound, ``D`` lognormal (the engine's ``critical_survival_median_s`` and
  ``critical_survival_sigma``). The record says care came at ``c_obs`` (the row's own: ``record.care_of``)
  and the person died: ``D < x_obs`` with ``x_obs = c_obs - u``. Under the protocol care comes at
  ``c_pro = min(c_obs, max(u, t_stop) + A)``, ``A`` the access delay once the threat is stopped by an
  officer already inside (lognormal: the scenario's ``care.rtf_access_median_s`` and
  ``care.ems_access_sigma``, as in the engine's care rule with a rescue task force), so the chance the
  person would have lived is ``q * (S(x_pro) - S(x_obs)) / (1 - S(x_obs))``, ``S`` the survival function of
  ``D``. When the record has no care time, ``c_obs`` is taken as the recorded end of the attack plus the
  same ``A`` (flagged), so the observed arm is the record exactly.
- **A recorded time of death** (``died_at=``, ``T``) of a person who died awaiting care (before the care
  the record gives, or with none recorded) bounds ``D`` from below: alive ``a = T - u`` after the wound,
  ``a <= D < x_obs``, so the chance is ``q * (S(max(x_pro, a)) - S(x_obs)) / (S(a) - S(x_obs))``: care
  before ``T`` saves with probability ``q``, later care less, care at ``c_obs`` not at all. A death after
  the recorded care (reached alive, died later) bounds nothing about the time within which care could
  still save them (the care that came did not), so the first formula stands.

``u``, ``A`` and the uniform deciding survival are drawn once per person and draw and reused for every
entry delay, so the delay curve differs only through ``t_stop``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import stats

from responsesim.parameters import ASSUMPTION, Parameter
from responsesim.review.record import CasualtyRecord, IncidentRecord

__all__ = ["RECORD_PARAMETERS", "PersonDraws", "RecordEffect", "apply_care", "apply_stop", "draw_people"]

#: parameters of the record model, drawn uniformly in [low, high] per paired draw
RECORD_PARAMETERS: tuple[Parameter, ...] = (
    Parameter(
        "potentially_survivable", "probability", "probability", 0.11, 0.05, 0.20,
        "share of deaths potentially survivable with timely care: Smith et al. 2016 (J Trauma Acute Care "
        "Surg 81:86-92, civilian public mass shootings: about 7%); Sarani et al. 2019 (J Am Coll Surg "
        "228:228-234: about 15%, higher for rifle wounds)",
    ),
    Parameter(
        "potentially_survivable_later", "probability", "probability", 0.4, 0.2, 0.6,
        ASSUMPTION + ": share potentially survivable among people the record shows living for a while "
        "and dying later (no published figure found; wide on purpose)",
    ),
)  # fmt: skip


@dataclass(frozen=True)
class PersonDraws:
    """One entry per killed or wounded person of the record and per draw, [D, P]."""

    row: np.ndarray  # int64 [P] index of the person's casualty row
    u: np.ndarray  # float64 [D, P] time hit (s)
    access: np.ndarray  # float64 [D, P] access delay of care once the threat is stopped (s)
    v: np.ndarray  # float64 [D, P] uniform deciding survival with earlier care
    q: np.ndarray  # float64 [D, P] potentially survivable share that applies to the person
    median_s: np.ndarray  # float64 [D] median time to death without care (s)
    sigma: np.ndarray  # float64 [D]


def _ranges(overrides: Mapping[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    return {p.name: tuple(overrides.get(p.name, (p.low, p.high))) for p in RECORD_PARAMETERS}  # type: ignore[misc]


def draw_people(
    rec: IncidentRecord,
    n: int,
    seed: int,
    median_s: np.ndarray,
    sigma: np.ndarray,
    access_median_s: float,
    access_sigma: float,
    overrides: Mapping[str, tuple[float, float]] | None = None,
) -> PersonDraws:
    """Draw each person's time, access delay, survival uniform and survivable share, ``n`` draws."""
    rng = np.random.default_rng([seed, 16])
    rows = [k for k, c in enumerate(rec.casualties) for _ in range(c.count)]
    p = len(rows)
    cas = rec.casualties
    t0 = np.array([cas[k].t0_s for k in rows], dtype=float)
    t1 = np.array([cas[k].t1_s for k in rows], dtype=float)
    u = t0 + (t1 - t0) * rng.random((n, p))
    access = access_median_s * np.exp(access_sigma * rng.standard_normal((n, p)))
    v = rng.random((n, p))
    rg = _ranges(overrides or {})
    lo, hi = rg["potentially_survivable"]
    q_any = lo + (hi - lo) * rng.random(n)
    lo, hi = rg["potentially_survivable_later"]
    q_later = lo + (hi - lo) * rng.random(n)
    q = np.zeros((n, p))
    for j, k in enumerate(rows):
        c = cas[k]
        if c.killed and c.died == "at_scene":
            q[:, j] = q_any
        elif c.killed and c.died == "later":
            q[:, j] = q_later
    return PersonDraws(np.asarray(rows, dtype=np.int64), u, access, v, q, np.asarray(median_s, float),
                       np.asarray(sigma, float))  # fmt: skip


@dataclass(frozen=True)
class RecordEffect:
    """Per draw [D] and per casualty row [D, K]: who would not have been shot, who would have lived."""

    not_shot: np.ndarray  # int64 [D] killed in the record, not shot under the protocol
    survived_care: np.ndarray  # int64 [D] killed in the record, shot, would have lived with earlier care
    wounded_not_shot: np.ndarray  # int64 [D] wounded in the record, not shot under the protocol
    row_not_shot: np.ndarray  # int64 [D, K]
    row_survived: np.ndarray  # int64 [D, K]
    care_assumed: tuple[int, ...]  # casualty rows whose care time is assumed (not in the record)

    @property
    def lives_saved(self) -> np.ndarray:
        return self.not_shot + self.survived_care


def observed_care(rec: IncidentRecord, c: CasualtyRecord) -> float | None:
    """When care reached row ``c`` in the record (its own: ``care=`` or a care row that reaches it, not
    another row's); None when the record does not say."""
    return c.care_s


def observed_care_times(rec: IncidentRecord, people: PersonDraws) -> tuple[np.ndarray, tuple[int, ...]]:
    """Care per person and draw [D, P] as the record gives it (each row its own), or assumed where it does
    not (the recorded end plus the access delay), and the killed rows whose care time is assumed."""
    cas = rec.casualties
    assumed: list[int] = []
    c_obs = np.empty(people.u.shape)
    for j, k in enumerate(people.row):
        t = observed_care(rec, cas[k])
        if t is None:
            c_obs[:, j] = np.maximum(people.u[:, j], rec.end_s) + people.access[:, j]
            if cas[k].killed and k not in assumed:
                assumed.append(int(k))
        else:
            c_obs[:, j] = t
    return c_obs, tuple(sorted(assumed))


def p_lived(rec: IncidentRecord, people: PersonDraws, c_obs: np.ndarray, c_pro: np.ndarray) -> np.ndarray:
    """The chance [D, P] that each person killed in the record would have lived with care at ``c_pro``
    instead of ``c_obs`` (0 where ``c_pro >= c_obs``; the module docstring gives the formulas)."""
    cas = rec.casualties
    death = np.array([np.nan if cas[k].death_s is None else cas[k].death_s for k in people.row])[None, :]
    med = people.median_s[:, None]
    sig = people.sigma[:, None]

    def surv(x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (np.log(np.maximum(x, 1e-9)) - np.log(med)) / sig
        return np.asarray(stats.norm.sf(z))

    s_obs = surv(c_obs - people.u)
    s_pro = surv(c_pro - people.u)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_live = people.q * np.clip(s_pro - s_obs, 0.0, None) / np.maximum(1.0 - s_obs, 1e-12)
    if np.isfinite(death).any():  # died awaiting care, alive until the recorded death: a <= D < x_obs
        a = np.where(np.isfinite(death), death - people.u, 0.0)
        awaiting = np.isfinite(death) & (a < c_obs - people.u)
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = (
                people.q
                * np.clip(surv(np.maximum(c_pro - people.u, a)) - s_obs, 0.0, None)
                / (surv(a) - s_obs)
            )
        bound = np.where(c_pro - people.u <= a, people.q, np.minimum(np.nan_to_num(bound), people.q))
        p_live = np.where(awaiting, bound, p_live)
    return np.asarray(p_live)


def _effect(
    rec: IncidentRecord,
    people: PersonDraws,
    not_shot: np.ndarray,
    survived: np.ndarray,
    assumed: tuple[int, ...],
) -> RecordEffect:
    cas = rec.casualties
    n = people.u.shape[0]
    killed = np.array([cas[k].killed for k in people.row], dtype=bool)
    row_not = np.zeros((n, len(cas)), dtype=np.int64)
    row_sur = np.zeros((n, len(cas)), dtype=np.int64)
    np.add.at(row_not.T, people.row, not_shot.T.astype(np.int64))
    np.add.at(row_sur.T, people.row, survived.T.astype(np.int64))
    return RecordEffect(
        not_shot=(not_shot & killed).sum(axis=1),
        survived_care=survived.sum(axis=1),
        wounded_not_shot=(not_shot & ~killed).sum(axis=1),
        row_not_shot=row_not,
        row_survived=row_sur,
        care_assumed=assumed,
    )


def apply_stop(rec: IncidentRecord, people: PersonDraws, t_stop: np.ndarray) -> RecordEffect:
    """The record re-read against ``t_stop`` [D] (inf: the attack was not stopped before its end)."""
    cas = rec.casualties
    stop = np.asarray(t_stop, dtype=float)[:, None]
    earlier = stop < rec.end_s
    killed = np.array([cas[k].killed for k in people.row], dtype=bool)
    not_shot = earlier & (people.u > stop)
    c_obs, assumed = observed_care_times(rec, people)
    c_pro = np.where(earlier, np.minimum(c_obs, np.maximum(people.u, stop) + people.access), c_obs)
    survived = killed & ~not_shot & (people.v < p_lived(rec, people, c_obs, c_pro))
    return _effect(rec, people, not_shot, survived, assumed)


def apply_care(rec: IncidentRecord, people: PersonDraws, care_at: np.ndarray | float) -> RecordEffect:
    """The record with the attack as it was but care reaching every casualty at ``care_at`` (s; [D, P],
    [D, 1] or a number) where that is earlier than the record's: who would have lived (nobody is spared
    being shot)."""
    cas = rec.casualties
    killed = np.array([cas[k].killed for k in people.row], dtype=bool)
    c_obs, assumed = observed_care_times(rec, people)
    c_pro = np.minimum(c_obs, np.maximum(people.u, care_at))
    survived = killed & (people.v < p_lived(rec, people, c_obs, c_pro))
    return _effect(rec, people, np.zeros_like(survived), survived, assumed)
