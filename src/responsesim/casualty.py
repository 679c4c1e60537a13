"""Casualty care: when care reaches each critical casualty, and who dies awaiting it (closed form).

Care starts when the threat is stopped (plus an access delay for EMS to reach the casualty), or earlier
with a rescue task force that forms ``rtf_ready_s`` after the first officer entry (docs/model.md).
"""

from __future__ import annotations

import numpy as np

from responsesim.engine import rng
from responsesim.scenario.compile import Params


def care_times(
    params: Params,
    keys: np.ndarray,
    index: np.ndarray,
    wound_t: np.ndarray,
    end_t: np.ndarray,
    ended: np.ndarray,
    first_entry_t: np.ndarray,
) -> np.ndarray:
    """Time (s) care reaches each critical casualty (inf = never within the model).

    ``keys``, ``end_t``, ``ended`` and ``first_entry_t`` are per casualty (gathered from its replication);
    ``index`` is the casualty's index within its replication, which picks its random stream slots.
    """
    n = index.shape[0]
    if n == 0:
        return np.zeros(0)
    width = 2 * int(index.max()) + 2
    u = rng.uniform(keys, -2, rng.S_CARE, width)
    rows = np.arange(n)
    u1 = u[rows, 2 * index]
    u2 = u[rows, 2 * index + 1]
    stop = np.where(ended, end_t, np.inf)
    if params.rescue_task_force:
        access = rng.lognormal(u1, u2, params.rtf_access_median_s, params.ems_access_sigma)
        rtf = first_entry_t + params.rtf_ready_s
        start = np.minimum(stop, rtf)
    else:
        access = rng.lognormal(u1, u2, params.ems_access_median_s, params.ems_access_sigma)
        start = stop
    return np.maximum(wound_t, start) + access
