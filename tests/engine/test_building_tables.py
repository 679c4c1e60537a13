"""The engine's building tables: neighbour lists that grow with the edges, the graph helpers of the rules
agree with the dense tables they replaced, and the engine never builds a dense [S, S] float table."""

from __future__ import annotations

import numpy as np
import pytest

from responsesim.codes import EXIT
from responsesim.engine import rules
from responsesim.engine.arrays import engine_input
from responsesim.engine.types import Building
from responsesim.params import load_calibration
from responsesim.scenario.building import BuildingGraph, compile_building, template
from responsesim.scenario.campus import campus
from responsesim.scenario.compile import Params, compile_params
from responsesim.scenario.load import default_scenario_text, parse_text

#: the tables over pairs of spaces that remain: next hops [S, S] (int16) and distances to exits [S, E]
PAIR_TABLES = ("next_hop", "exit_dist")
DENSE = ("adj", "edge_len", "dist", "hops", "next_hop")


def _params(graph: BuildingGraph) -> Params:
    return compile_params(parse_text(default_scenario_text()), graph, load_calibration())


def _parts(b: Building) -> tuple[int, int]:
    """(bytes of the tables that grow with spaces and edges, bytes of ``PAIR_TABLES``)."""
    linear = sum(v.nbytes for k, v in b._asdict().items() if k not in PAIR_TABLES)
    return linear, sum(getattr(b, k).nbytes for k in PAIR_TABLES)


def test_building_memory_grows_with_edges_not_spaces_squared() -> None:
    """Doubling a campus (514 -> 1,032 spaces) about doubles the engine's building arrays except the
    next-hop table, which is exactly 2 bytes a pair of spaces, and the distances to exits (8 bytes a
    space and exit); the dense tables of the compiled building are never built on the engine's path."""
    out = {}
    for n in (500, 1000):
        spec = campus(n)
        graph = compile_building(spec)
        b = engine_input(_params(graph)).building
        s, e, m = len(spec.spaces), len(graph.exits), len(spec.edges)
        linear, pairs = _parts(b)
        assert b.next_hop.dtype == np.int16 and b.next_hop.nbytes == 2 * s * s
        assert b.exit_dist.nbytes == 8 * s * e
        assert b.nbr.shape == (2 * m,) and b.leg_officer.shape == (2 * m,)
        assert [k for k in DENSE if k in graph.__dict__] == [], "a dense [S, S] table was built"
        out[n] = (s, m, linear, pairs)
    (s1, m1, lin1, _), (s2, m2, lin2, _) = out[500], out[1000]
    growth = lin2 / lin1
    assert growth == pytest.approx((m2 + s2) / (m1 + s1), rel=0.1)
    assert growth < 0.6 * (s2 / s1) ** 2  # far from quadratic
    # the dense layout it replaced: 6 float/int64 and 2 bool [S, S] tables
    assert lin2 < (6 * 8 + 2) * s2 * s2 / 100


@pytest.fixture(scope="module")
def school() -> tuple[BuildingGraph, Params, Building]:
    g = compile_building(template("three_floor_school"))
    p = _params(g)
    return g, p, engine_input(p).building


def test_neighbour_lists_match_the_dense_tables(school: tuple[BuildingGraph, Params, Building]) -> None:
    g, p, b = school
    for a in range(len(g.space_ids)):
        row = slice(b.nbr_ptr[a], b.nbr_ptr[a + 1])
        nb = b.nbr[row]
        assert list(nb) == list(np.flatnonzero(g.adj[a]))
        assert np.array_equal(g.nbr_len[row], g.edge_len[a, nb])
        assert np.array_equal(b.leg_officer[row], g.edge_len[a, nb] / p.officer_speed)
        assert np.array_equal(b.leg_group[row], g.edge_len[a, nb] / p.evac_speed)
        assert list(b.nbr_interior[row]) == list(g.kind[nb] != EXIT)
    assert np.array_equal(b.exit_dist, g.dist[:, g.exits])
    assert np.array_equal(b.next_hop, g.next_hop)


def test_graph_helpers_agree_with_dense_hops(school: tuple[BuildingGraph, Params, Building]) -> None:
    """``edge``/``hops_from``/``mark_near``/``mark_two_hops`` give what the dense ``adj``/``hops`` gave,
    visiting the spaces in order and shuffled (the marks are kept from one space to the next)."""
    g, p, b = school
    n = len(g.space_ids)
    ring_src = np.full(1, -1, dtype=np.int64)
    ring = np.zeros(n, dtype=np.int64)
    queue = np.zeros(n, dtype=np.int64)
    near_src, near = np.full(1, -1, dtype=np.int64), np.zeros(n, dtype=np.bool_)
    two_src, two, members = (
        np.full(1, -1, dtype=np.int64),
        np.zeros(n, dtype=np.bool_),
        np.zeros(n + 1, dtype=np.int64),
    )
    order = [*range(n), *np.random.default_rng(3).permutation(n).tolist()]
    for a in order:
        rules.hops_from(b, a, ring_src, ring, queue)
        assert np.array_equal(ring, g.hops[a])
        rules.mark_near(b, a, near_src, near)
        assert np.array_equal(near, g.adj[a].astype(bool))
        rules.mark_two_hops(b, a, two_src, two, members)
        assert np.array_equal(two, g.hops[a] <= 2)
        assert sorted(members[1 : members[0] + 1]) == np.flatnonzero(g.hops[a] <= 2).tolist()
        for c in range(n):
            e = rules.edge(b, a, c)
            assert (e >= 0) == bool(g.adj[a, c])
            if e >= 0:
                assert b.nbr[e] == c and b.leg_attacker[e] == g.edge_len[a, c] / p.attacker_speed
