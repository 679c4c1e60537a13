"""Parameter sweeps: a TOML file of parameter values over a base scenario, run in resumable chunks
(locally or on a dask ``distributed`` cluster) into a DuckDB file, summarised per point and plotted."""

from responsesim.sweep.command import sweep_command
from responsesim.sweep.run import SchedulerError, SweepRun, Task, connect, run_sweep, run_task
from responsesim.sweep.spec import Point, Sweep, SweepError, load_sweep, parse_sweep
from responsesim.sweep.store import SweepStore
from responsesim.sweep.summary import plot_sweep, sweep_summary

__all__ = [
    "Point",
    "SchedulerError",
    "Sweep",
    "SweepError",
    "SweepRun",
    "SweepStore",
    "Task",
    "connect",
    "load_sweep",
    "parse_sweep",
    "plot_sweep",
    "run_sweep",
    "run_task",
    "sweep_command",
    "sweep_summary",
]
