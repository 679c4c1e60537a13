"""Counter-based random numbers: every draw is a pure function of (key, tick, stream, slot).

A replication's key depends only on (scenario seed, replication index), so a replication gets the same
numbers whatever batch, chunk, worker or backend computes it. The mixer is SplitMix64's finaliser
(Steele, Lea & Flood 2014), which passes BigCrush when used on a counter; numpy uint64 arithmetic wraps
modulo 2**64, as the mixer needs.
"""

from __future__ import annotations

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S12 = np.uint64(12)
_TWO52 = float(2**52)

# Stream identifiers: one per kind of draw, so that adding a draw never shifts another.
S_INIT_GROUP = 1
S_INIT_UNIT = 2
S_INIT_MISC = 3
S_ATTACKER_MOVE = 10
S_SHOTS = 11
S_SHOT_TARGET = 12
S_SHOT_HIT = 13
S_SHOT_OUTCOME = 14
S_SHOT_SURVIVAL = 15
S_OFFICER_HIT = 20
S_OFFICER_KILLED = 21
S_OFFICER_SEARCH = 22
S_END = 30
S_END_KIND = 31
S_END_SPLIT = 32
S_CARE = 40


def mix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (a bijection with good avalanche)."""
    z = z.astype(np.uint64, copy=True)
    z ^= z >> _S30
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


def replication_keys(seed: int, reps: np.ndarray) -> np.ndarray:
    """Key of each replication: depends only on (seed, replication index)."""
    with np.errstate(over="ignore"):
        base = mix64(np.array([seed], dtype=np.uint64))[0]
        return mix64(base + np.asarray(reps, dtype=np.uint64) * _GOLDEN)


def uniform(keys: np.ndarray, tick: int, stream: int, width: int) -> np.ndarray:
    """Uniforms on the open interval (0, 1), shape [len(keys), width]; slot j is column j."""
    base = (np.uint64((tick + 1) & 0xFFFFFFFF) << np.uint64(32)) | (np.uint64(stream & 0xFF) << np.uint64(24))
    counters = base | np.arange(width, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = mix64(keys[:, None] + mix64(counters)[None, :])
    # 52 bits + 0.5 is exact in float64, so the result is strictly inside (0, 1)
    return ((z >> _S12).astype(np.float64) + 0.5) / _TWO52


def normal(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """Standard normal from two uniforms (Box-Muller, cosine branch)."""
    return np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)


def lognormal(
    u1: np.ndarray, u2: np.ndarray, median: float | np.ndarray, sigma: float | np.ndarray
) -> np.ndarray:
    """Lognormal with the given median and log standard deviation."""
    return np.asarray(median) * np.exp(np.asarray(sigma) * normal(u1, u2))


def exponential(u: np.ndarray, mean: float | np.ndarray) -> np.ndarray:
    """Exponential with the given mean."""
    return -np.asarray(mean) * np.log(u)


def poisson(u: np.ndarray, lam: np.ndarray, cap: int) -> np.ndarray:
    """Poisson(lam) by inversion, truncated at ``cap`` (the tail above it is put at ``cap``)."""
    lam = np.asarray(lam, dtype=np.float64)
    p = np.exp(-lam)
    cdf = p.copy()
    k = np.zeros(np.broadcast(u, lam).shape, dtype=np.int64)
    for j in range(1, cap + 1):
        k += u > cdf
        p = p * lam / j
        cdf = cdf + p
    return k
