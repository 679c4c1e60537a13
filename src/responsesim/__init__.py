"""responsesim: calibrated Monte Carlo simulation of active-shooter incident response.

``import responsesim as rs`` is cheap: ``rs.run``, ``rs.load_scenario``, ``rs.Scenario`` and
``rs.RunResult`` are imported from ``responsesim.api`` on first use (the command line starts faster).
"""

from __future__ import annotations

from typing import Any

__all__ = ["RunResult", "Scenario", "load_scenario", "run"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from responsesim import api

        return getattr(api, name)
    raise AttributeError(f"module 'responsesim' has no attribute {name!r}")
