"""A Mesa 3 peer of the responsesim engine (docs/model.md), for the side-by-side benchmark.

``simulate_mesa(params, n)`` returns the engine's outcome table for replications ``0 .. n-1``.

Importing Mesa 3.3 imports ``mesa.batchrunner``, which forces the ``spawn`` start method on the whole
process (``multiprocessing.set_start_method("spawn", force=True)``). That would make every later process
pool in the process (the engine's, other tests') re-import everything in each worker, and would time the
Mesa peer's pool with a start-up cost the other implementations do not pay; so the start method in force
before the import is put back.
"""

import multiprocessing

_start_method = multiprocessing.get_start_method(allow_none=True)
import mesa  # noqa: E402, F401

multiprocessing.set_start_method(_start_method, force=True)

from .model import OUTCOME_COLUMNS, Building, IncidentModel, simulate_mesa  # noqa: E402

__all__ = ["OUTCOME_COLUMNS", "Building", "IncidentModel", "simulate_mesa"]
