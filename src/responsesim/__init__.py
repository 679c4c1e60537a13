"""responsesim: calibrated Monte Carlo simulation of active-shooter incident response."""

from responsesim.api import RunResult, Scenario, load_scenario, run

__all__ = ["RunResult", "Scenario", "load_scenario", "run"]
