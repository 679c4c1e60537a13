"""Golden outcome tables: the compiled engine's tables at fixed seeds, kept in ``tests/engine/golden/``.

They guard against an accidental change of the engine: any change to a number fails
``tests/engine/test_one_engine.py``. After an intended model change, regenerate them and say so in the
commit:

    python tests/engine/golden_cases.py --write
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from responsesim.engine.run import run_chunk
from responsesim.scenario.compile import Params

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).resolve().parent / "golden"
REPS = np.arange(150, dtype=np.int64)


def cases() -> dict[str, Params]:
    """The default scenario, every example and both arms of the Parkland replay: the same cases the
    engine-version comparison uses (``benchmarks/engine_tables.py``)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from engine_tables import cases as engine_cases

    return engine_cases()


def table(params: Params) -> pd.DataFrame:
    return run_chunk(params, REPS)


def read(name: str) -> pd.DataFrame:
    df = pd.read_csv(GOLDEN / f"{name}.csv")
    for col in ("end_reason", "stopped_by"):  # an empty role (not stopped by police) reads as NaN
        df[col] = np.array([x if isinstance(x, str) else "" for x in df[col]], dtype=object)
    return df


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--write", action="store_true", help="rewrite the golden tables")
    if not ap.parse_args().write:
        ap.error("nothing to do without --write")
    GOLDEN.mkdir(exist_ok=True)
    for name, params in cases().items():
        table(params).to_csv(GOLDEN / f"{name}.csv", index=False, float_format="%.17g")
        print("wrote", GOLDEN / f"{name}.csv")


if __name__ == "__main__":
    main()
