"""A Mesa 3 peer of the responsesim engine (docs/model.md), for the side-by-side benchmark.

``simulate_mesa(params, n)`` returns the engine's outcome table for replications ``0 .. n-1``.
"""

from .model import OUTCOME_COLUMNS, Building, IncidentModel, simulate_mesa

__all__ = ["OUTCOME_COLUMNS", "Building", "IncidentModel", "simulate_mesa"]
