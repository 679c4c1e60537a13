"""The replay's building JSON reads the neighbour lists, never the dense [S, S] tables (which cost about
225 MB at 5,000 spaces), and lists every edge once."""

from __future__ import annotations

from responsesim.scenario.load import load_scenario
from responsesim.web.replay import building_json


def test_building_json_uses_no_dense_table() -> None:
    sc = load_scenario(None)
    b = sc.params.building
    data = building_json(sc.params)
    assert "adj" not in vars(b) and "dist" not in vars(b)  # cached_property tables never built
    edges = {tuple(e) for e in data["edges"]}
    assert len(edges) == len(data["edges"])  # each edge once
    assert all(i < j for i, j in edges)
    assert edges == {(i, int(j)) for i in range(b.n_spaces) for j in b.neighbours(i) if j > i}
    assert len(edges) * 2 == len(b.nbr)
