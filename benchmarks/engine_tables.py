"""Write the outcome tables of the default scenario, every example and both arms of the Parkland replay
at fixed seeds, so two versions of the engine can be compared on the same replications.

    python benchmarks/engine_tables.py OUT_DIR [--replications N]

Run it on two checkouts (e.g. ``git worktree add /tmp/old <commit>`` then
``PYTHONPATH=/tmp/old/src python benchmarks/engine_tables.py /tmp/tables-old``) and compare the
directories with ``benchmarks/compare_engines.py``.
"""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

from responsesim.engine.run import simulate
from responsesim.review.whatif import compile_replay, parse_counterfactual
from responsesim.scenario.compile import Params
from responsesim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def cases() -> dict[str, Params]:
    out: dict[str, Params] = {"default": load_scenario().params}
    for f in sorted((ROOT / "examples").glob("*.toml")):
        out[f.stem] = load_scenario(f).params
    rp, _ = compile_replay(
        ROOT / "examples" / "parkland" / "incident.toml", parse_counterfactual("SRO:entered_building@+30s")
    )
    out["parkland_observed"] = rp.observed
    out["parkland_protocol"] = rp.protocol
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--replications", type=int, default=2000)
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    kw = {"backend": "numba"} if "backend" in inspect.signature(simulate).parameters else {}
    for name, params in cases().items():
        df = simulate(params, a.replications, **kw)  # type: ignore[arg-type]
        df.to_csv(a.out / f"{name}.csv", index=False)
        print(name, len(df), round(float(df["deaths"].mean()), 3))


if __name__ == "__main__":
    main()
