"""Counter-based random numbers: every draw is a pure function of (key, tick, stream, slot).

A replication's key depends only on (scenario seed, replication index), so a replication gets the same
numbers whatever batch, chunk, worker or thread computes it. The mixer is SplitMix64's finaliser
(Steele, Lea & Flood 2014), which passes BigCrush when used on a counter; uint64 arithmetic wraps
modulo 2**64, as the mixer needs. All functions are compiled; the engine calls the scalar ones.
"""

from __future__ import annotations

import math

import numpy as np

from responsesim.engine.jit import njit

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
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
S_BREACH = 23
S_END = 30
S_CARE = 40

#: ticks of the draws made once per replication: at the start (-1) and for casualty care (-2)
TICK_START = -1
TICK_CARE = -2


@njit("uint64(uint64)")
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64 finaliser (a bijection of uint64 with good avalanche)."""
    z = z ^ (z >> np.uint64(30))
    z = z * _M1
    z = z ^ (z >> np.uint64(27))
    z = z * _M2
    return z ^ (z >> np.uint64(31))


@njit("float64(uint64, int64, int64, int64)")
def uniform(key: np.uint64, tick: int, stream: int, slot: int) -> float:
    """A uniform on the open interval (0, 1) for (key, tick, stream, slot)."""
    base = (np.uint64((tick + 1) & 0xFFFFFFFF) << np.uint64(32)) | (np.uint64(stream & 0xFF) << np.uint64(24))
    z = mix64(key + mix64(base | np.uint64(slot)))
    # 52 bits + 0.5 is exact in float64, so the result is strictly inside (0, 1)
    return (float(z >> np.uint64(12)) + 0.5) / _TWO52


@njit
def replication_keys(seed: int, reps: np.ndarray) -> np.ndarray:
    """Key of each replication: depends only on (seed, replication index)."""
    base = mix64(np.uint64(seed))
    out = np.empty(reps.shape[0], dtype=np.uint64)
    for i in range(reps.shape[0]):
        out[i] = mix64(base + np.uint64(reps[i]) * _GOLDEN)
    return out


@njit
def uniform_block(keys: np.ndarray, tick: int, stream: int, width: int) -> np.ndarray:
    """Uniforms [len(keys), width]: row i, column j is ``uniform(keys[i], tick, stream, j)``."""
    out = np.empty((keys.shape[0], width))
    for i in range(keys.shape[0]):
        for j in range(width):
            out[i, j] = uniform(keys[i], tick, stream, j)
    return out


@njit
def normal(u1: float, u2: float) -> float:
    """Standard normal from two uniforms (Box-Muller, cosine branch)."""
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


@njit
def lognormal(u1: float, u2: float, median: float, sigma: float) -> float:
    """Lognormal with the given median and log standard deviation."""
    return median * math.exp(sigma * normal(u1, u2))


@njit
def exponential(u: float, mean: float) -> float:
    """Exponential with the given mean."""
    return -mean * math.log(u)


@njit
def poisson(u: float, lam: float, cap: int) -> int:
    """Poisson(lam) by inversion, truncated at ``cap`` (the tail above it is put at ``cap``)."""
    p = math.exp(-lam)
    cdf = p
    k = 0
    for j in range(1, cap + 1):
        if u > cdf:
            k += 1
        else:
            break  # the partial sums only grow: no later term can count
        p = p * lam / j
        cdf = cdf + p
    return k


@njit
def choose(w: np.ndarray, u: float) -> int:
    """Index drawn with probability proportional to the weights ``w`` (-1 when they sum to 0).

    The number of sequential partial sums ``<= u * total`` (capped at ``len(w) - 1``).
    """
    k = w.shape[0]
    total = 0.0
    for j in range(k):
        total += w[j]
    if not total > 0:
        return -1
    x = u * total
    c = 0.0
    idx = 0
    for j in range(k):
        c += w[j]
        if c <= x:
            idx += 1
    return min(idx, k - 1)
