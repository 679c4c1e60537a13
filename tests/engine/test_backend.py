"""Engine backends: selection by name, and identical outcome tables across backends."""

from __future__ import annotations

import numpy as np
import pytest

from responsesim.engine.backend import BACKENDS, check_backend
from responsesim.engine.run import run_chunk, simulate
from responsesim.scenario.load import load_scenario


def test_registry_names() -> None:
    assert BACKENDS == ("numpy", "numba")
    for name in BACKENDS:
        assert check_backend(name) == name


@pytest.mark.parametrize("call", ["simulate", "run_chunk"])
def test_unknown_backend_is_rejected(call: str) -> None:
    params = load_scenario().params
    with pytest.raises(ValueError, match="unknown backend 'x'; choose one of: numpy, numba"):
        if call == "simulate":
            simulate(params, 10, backend="x")
        else:
            run_chunk(params, np.arange(10), backend="x")
