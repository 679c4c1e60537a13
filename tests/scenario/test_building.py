"""Tests for building specs, files, templates, overrides and the compiled graph."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from responsesim.scenario import building as building_module
from responsesim.scenario.building import (
    KIND_CODES,
    TEMPLATES,
    BuildingFileError,
    BuildingGraph,
    BuildingSpec,
    SpaceSpec,
    apply_overrides,
    compile_building,
    load_building_file,
    template,
)
from responsesim.scenario.schema import BuildingSection, SpaceOverride

# ------------------------------------------------------------------------------------------- helpers


def small() -> dict[str, Any]:
    """exit_a - hall - exit_b, with room_1 and room_2 off the hall."""
    return {
        "name": "small",
        "spaces": [
            {"id": "exit_a", "kind": "exit", "floor": 1},
            {"id": "hall", "kind": "corridor", "floor": 1},
            {"id": "room_1", "kind": "classroom", "floor": 1, "capacity": 30, "occupants": 20},
            {"id": "room_2", "kind": "office", "floor": 1, "occupants": 3},
            {"id": "exit_b", "kind": "exit", "floor": 1},
        ],
        "edges": [
            {"a": "exit_a", "b": "hall", "length_m": 5},
            {"a": "hall", "b": "room_1", "length_m": 4},
            {"a": "hall", "b": "room_2", "length_m": 6},
            {"a": "hall", "b": "exit_b", "length_m": 7},
        ],
        "default_entry": "exit_a",
    }


SMALL_TOML = """\
name = "small"
default_entry = "exit_a"

[[spaces]]
id = "exit_a"
kind = "exit"
floor = 1

[[spaces]]
id = "hall"
kind = "corridor"
floor = 1

[[spaces]]
id = "room_1"
kind = "classroom"
floor = 1
capacity = 30
occupants = 20

[[edges]]
a = "exit_a"
b = "hall"
length_m = 5.0

[[edges]]
a = "hall"
b = "room_1"
length_m = 4.0
"""


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """1-based line number of the nth line containing ``needle``."""
    hits = [i for i, ln in enumerate(text.splitlines(), 1) if needle in ln]
    return hits[nth - 1]


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def school() -> tuple[BuildingSpec, BuildingGraph]:
    spec = template("three_floor_school")
    return spec, compile_building(spec)


# ------------------------------------------------------------------------------------------- space defaults


@pytest.mark.parametrize(
    ("kind", "lockable"),
    [
        ("classroom", True),
        ("office", True),
        ("lounge", True),
        ("restroom", True),
        ("corridor", False),
        ("stairwell", False),
        ("open_area", False),
        ("exit", False),
    ],
)
def test_space_defaults_follow_kind(kind: str, lockable: bool) -> None:
    s = SpaceSpec.model_validate({"id": "s", "kind": kind, "floor": 1})
    assert s.lockable is lockable
    assert s.door_window is lockable
    assert s.hard_corner is False
    assert (s.capacity, s.occupants, s.x, s.y) == (0, 0, 0.0, 0.0)


def test_space_explicit_values_win_over_defaults() -> None:
    s = SpaceSpec.model_validate({"id": "s", "kind": "classroom", "floor": 2, "lockable": False})
    assert (s.lockable, s.door_window) == (False, False)
    s = SpaceSpec.model_validate({"id": "s", "kind": "classroom", "floor": 2, "door_window": False})
    assert (s.lockable, s.door_window) == (True, False)
    s = SpaceSpec.model_validate({"id": "s", "kind": "corridor", "floor": 2, "lockable": True})
    assert (s.lockable, s.door_window) == (True, True)


def test_space_rejects_unknown_keys_bad_kind_and_negative_counts() -> None:
    with pytest.raises(ValidationError, match="colour"):
        SpaceSpec.model_validate({"id": "s", "kind": "classroom", "floor": 1, "colour": "red"})
    with pytest.raises(ValidationError, match="kind"):
        SpaceSpec.model_validate({"id": "s", "kind": "gym", "floor": 1})
    with pytest.raises(ValidationError, match="occupants"):
        SpaceSpec.model_validate({"id": "s", "kind": "classroom", "floor": 1, "occupants": -1})
    with pytest.raises(ValidationError, match="capacity"):
        SpaceSpec.model_validate({"id": "s", "kind": "classroom", "floor": 1, "capacity": -1})


def test_specs_are_frozen() -> None:
    spec = BuildingSpec.model_validate(small())
    with pytest.raises(ValidationError):
        spec.spaces[0].occupants = 5


@pytest.mark.parametrize("length", [0, -1.0, float("inf"), float("nan")])
def test_edge_length_must_be_positive_and_finite(length: float) -> None:
    d = small()
    d["edges"][0]["length_m"] = length
    with pytest.raises(ValidationError, match="length_m"):
        BuildingSpec.model_validate(d)


# ------------------------------------------------------------------------------------ building validation


def _bad(mutate: Any) -> dict[str, Any]:
    d = small()
    mutate(d)
    return d


BAD_CASES = {
    "duplicate id": (
        _bad(lambda d: d["spaces"].append({"id": "room_1", "kind": "lounge", "floor": 1})),
        r"duplicate space id 'room_1'",
    ),
    "unknown space in edge": (
        _bad(lambda d: d["edges"].append({"a": "hall", "b": "nowhere", "length_m": 3})),
        r"edges\[4\].*unknown space 'nowhere'",
    ),
    "self loop": (
        _bad(lambda d: d["edges"].append({"a": "room_2", "b": "room_2", "length_m": 3})),
        r"edges\[4\].*joins space 'room_2' to itself",
    ),
    "duplicate edge": (
        _bad(lambda d: d["edges"].append({"a": "room_1", "b": "hall", "length_m": 3})),
        r"edges\[4\] \('room_1' - 'hall'\): duplicates edges\[1\]",
    ),
    "no exit": (
        {
            "name": "x",
            "spaces": [
                {"id": "a", "kind": "corridor", "floor": 1},
                {"id": "b", "kind": "classroom", "floor": 1},
            ],
            "edges": [{"a": "a", "b": "b", "length_m": 1}],
            "default_entry": "a",
        },
        r"no exit",
    ),
    "default entry not an exit": (
        _bad(lambda d: d.update(default_entry="hall")),
        r"default_entry 'hall' is not an exit \(kind 'corridor'\)",
    ),
    "default entry unknown": (
        _bad(lambda d: d.update(default_entry="front_door")),
        r"default_entry 'front_door' is not a space",
    ),
    "exit with occupants": (
        _bad(lambda d: d["spaces"][4].update(occupants=2)),
        r"exit 'exit_b' has 2 occupants",
    ),
    "occupants above capacity": (
        _bad(lambda d: d["spaces"][2].update(occupants=31)),
        r"space 'room_1' has 31 occupants > capacity 30",
    ),
    "unreachable": (
        _bad(
            lambda d: (
                d["spaces"].extend(
                    [
                        {"id": "attic", "kind": "open_area", "floor": 2},
                        {"id": "closet", "kind": "office", "floor": 2},
                    ]
                ),
                d["edges"].append({"a": "attic", "b": "closet", "length_m": 2}),
            )
        ),
        r"not reachable from any exit: 'attic', 'closet'",
    ),
    "isolated exit": (
        _bad(lambda d: d["spaces"].append({"id": "exit_c", "kind": "exit", "floor": 1})),
        r"exit 'exit_c' has no edge to a non-exit space",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_building_raises_value_error_naming_the_culprit(case: str) -> None:
    data, pattern = BAD_CASES[case]
    with pytest.raises(ValueError, match=pattern):
        BuildingSpec.model_validate(data)


def test_capacity_zero_means_unlimited() -> None:
    d = small()
    d["spaces"][3]["occupants"] = 500  # room_2 has capacity 0
    assert BuildingSpec.model_validate(d).spaces[3].occupants == 500


def test_lockable_corridor_is_allowed() -> None:
    d = small()
    d["spaces"][1]["lockable"] = True
    assert BuildingSpec.model_validate(d).spaces[1].lockable


# ------------------------------------------------------------------------------------------- templates


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_validates_and_compiles(name: str) -> None:
    spec = template(name)
    assert spec.name == name
    g = compile_building(spec)
    s = len(spec.spaces)
    assert g.space_ids == tuple(x.id for x in spec.spaces)
    for arr, dtype, shape in [
        (g.kind, np.int8, (s,)),
        (g.floor, np.int16, (s,)),
        (g.lockable, np.bool_, (s,)),
        (g.hard_corner, np.bool_, (s,)),
        (g.door_window, np.bool_, (s,)),
        (g.capacity, np.int32, (s,)),
        (g.occupants, np.int32, (s,)),
        (g.xy, np.float64, (s, 2)),
        (g.adj, np.bool_, (s, s)),
        (g.edge_len, np.float64, (s, s)),
        (g.dist, np.float64, (s, s)),
        (g.next_hop, np.int32, (s, s)),
        (g.hops, np.int16, (s, s)),
    ]:
        assert arr.dtype == dtype
        assert arr.shape == shape
        assert not arr.flags.writeable
    assert np.isfinite(g.dist).all(), "every space reachable"
    assert g.exits.dtype == np.int32
    assert list(g.exits) == sorted(i for i, x in enumerate(spec.spaces) if x.kind == "exit")
    assert g.kind[g.default_entry] == KIND_CODES["exit"]
    assert g.space_ids[g.default_entry] == spec.default_entry
    assert g.adj.sum() == 2 * len(spec.edges)
    assert (g.occupants[g.exits] == 0).all()
    # every exit opens onto an interior space
    for e in g.exits:
        assert (g.kind[g.adj[e]] != KIND_CODES["exit"]).any()
    # a fresh object per call
    assert template(name) is not spec
    assert template(name) == spec


def test_three_floor_school_layout(school: tuple[BuildingSpec, BuildingGraph]) -> None:
    spec, g = school
    by_kind: dict[str, list[SpaceSpec]] = {}
    for s in spec.spaces:
        by_kind.setdefault(s.kind, []).append(s)
    classrooms = by_kind["classroom"]
    assert 28 <= len(classrooms) <= 32
    assert {s.floor for s in spec.spaces} == {1, 2, 3}
    assert all(s.lockable and s.door_window and s.hard_corner for s in classrooms)
    assert all(s.occupants == 30 and s.capacity == 35 for s in classrooms)
    assert 850 <= int(g.occupants.sum()) <= 950
    # two stairwells, one landing per floor each, joined vertically by ~12 m edges
    stairs = by_kind["stairwell"]
    assert len(stairs) == 6
    for side in ("west", "east"):
        for f in (1, 2):
            a, b = g.index(f"f{f}_stair_{side}"), g.index(f"f{f + 1}_stair_{side}")
            assert g.adj[a, b]
            assert 10 <= g.edge_len[a, b] <= 14
    # hallway segments: corridors, empty, joined by 8-12 m edges
    corridors = [g.index(s.id) for s in by_kind["corridor"]]
    assert all(g.occupants[c] == 0 for c in corridors)
    cc = g.edge_len[np.ix_(corridors, corridors)]
    assert ((cc[np.isfinite(cc) & (cc > 0)] >= 8) & (cc[np.isfinite(cc) & (cc > 0)] <= 12)).all()
    # every classroom hangs off a corridor by a ~5 m door edge
    for s in classrooms:
        i = g.index(s.id)
        (nb,) = np.flatnonzero(g.adj[i])
        assert g.kind[nb] == KIND_CODES["corridor"]
        assert g.floor[nb] == s.floor
        assert 4 <= g.edge_len[i, nb] <= 6
    # exits: east and west at the stairwells, a main entrance in the middle, all on floor 1
    exits = {g.space_ids[e] for e in g.exits}
    assert exits == {"exit_east", "exit_west", "main_entrance"}
    assert g.adj[g.index("exit_east"), g.index("f1_stair_east")]
    assert g.adj[g.index("exit_west"), g.index("f1_stair_west")]
    assert (g.floor[g.exits] == 1).all()
    assert spec.default_entry == "exit_east"
    assert [s.floor for s in by_kind["lounge"]] == [3]
    assert len(by_kind["restroom"]) >= 3
    # floor plan: the hallway runs along x, rooms above and below it
    hall = [g.index(f"f1_hall_{i}") for i in range(6)]
    assert np.all(np.diff(g.xy[hall, 0]) > 0) and np.all(g.xy[hall, 1] == 0)
    assert {np.sign(g.xy[g.index(s.id), 1]) for s in classrooms} == {-1.0, 1.0}


def test_elementary_wing_layout() -> None:
    spec = template("elementary_wing")
    classrooms = [s for s in spec.spaces if s.kind == "classroom"]
    assert 11 <= len(classrooms) <= 13
    assert all(s.occupants == 25 for s in classrooms)
    assert any(s.kind == "office" for s in spec.spaces)
    assert sum(s.kind == "exit" for s in spec.spaces) == 2
    assert {s.floor for s in spec.spaces} == {1}


def test_office_floor_layout() -> None:
    spec = template("office_floor")
    total = sum(s.occupants for s in spec.spaces)
    assert 180 <= total <= 220
    open_areas = [s for s in spec.spaces if s.kind == "open_area"]
    assert len(open_areas) >= 2 and not any(s.lockable for s in open_areas)
    assert sum(s.occupants for s in open_areas) > total / 2
    assert sum(s.kind == "office" and s.lockable for s in spec.spaces) >= 3
    assert sum(s.kind == "exit" for s in spec.spaces) == 2
    assert any(s.kind == "corridor" for s in spec.spaces)


def test_unknown_template_lists_known_names() -> None:
    with pytest.raises(KeyError, match="gymnasium") as exc:
        template("gymnasium")
    for name in TEMPLATES:
        assert name in str(exc.value)


# ------------------------------------------------------------------------------------------- compiled tables


def test_graph_tables_are_consistent(school: tuple[BuildingSpec, BuildingGraph]) -> None:
    _, g = school
    s = len(g.space_ids)
    assert (g.adj == g.adj.T).all() and not g.adj.diagonal().any()
    assert (g.edge_len == g.edge_len.T).all()
    assert (g.edge_len.diagonal() == 0).all()
    assert np.isinf(g.edge_len[~g.adj & ~np.eye(s, dtype=bool)]).all()
    assert np.isfinite(g.edge_len[g.adj]).all()
    assert np.allclose(g.dist, g.dist.T)
    assert (g.dist.diagonal() == 0).all()
    assert (g.dist[g.adj] <= g.edge_len[g.adj] + 1e-9).all()
    # triangle inequality over all triples
    for b in range(s):
        assert (g.dist <= g.dist[:, [b]] + g.dist[[b], :] + 1e-9).all()
    assert (g.hops == g.hops.T).all()
    assert (g.hops.diagonal() == 0).all()
    assert ((g.hops == 1) == g.adj).all()
    # a space two rooms apart on the same hallway: room_101 -> f1_hall_0 -> f1_hall_1 -> room_103
    assert g.hops[g.index("room_101"), g.index("room_103")] == 3
    assert g.dist[g.index("room_101"), g.index("room_103")] == pytest.approx(20.0)
    # floors joined only by stairwells: floor 1 to floor 3 passes two vertical 12 m edges
    assert g.dist[g.index("f1_stair_west"), g.index("f3_stair_west")] == pytest.approx(24.0)


def test_next_hop_walk_reaches_target_along_a_shortest_path(
    school: tuple[BuildingSpec, BuildingGraph],
) -> None:
    _, g = school
    s = len(g.space_ids)
    assert (g.next_hop.diagonal() == np.arange(s)).all()
    for a in range(s):
        for b in range(s):
            cur, total, steps = a, 0.0, 0
            while cur != b:
                nxt = int(g.next_hop[cur, b])
                assert g.adj[cur, nxt]
                total += g.edge_len[cur, nxt]
                cur = nxt
                steps += 1
                assert steps <= s
            assert total == pytest.approx(g.dist[a, b], rel=1e-9, abs=1e-9)


def test_next_hop_ties_go_to_the_lowest_index() -> None:
    # two equal 2-edge routes from a to d: via 'c' (index 1) and via 'b' (index 2); edges list 'b' first
    spec = BuildingSpec.model_validate(
        {
            "name": "diamond",
            "spaces": [
                {"id": "a", "kind": "exit", "floor": 1},
                {"id": "c", "kind": "corridor", "floor": 1},
                {"id": "b", "kind": "corridor", "floor": 1},
                {"id": "d", "kind": "classroom", "floor": 1},
            ],
            "edges": [
                {"a": "a", "b": "b", "length_m": 3},
                {"a": "b", "b": "d", "length_m": 4},
                {"a": "a", "b": "c", "length_m": 4},
                {"a": "c", "b": "d", "length_m": 3},
            ],
            "default_entry": "a",
        }
    )
    g = compile_building(spec)
    a, c, b, d = (g.index(x) for x in "acbd")
    assert g.dist[a, d] == 7.0
    assert g.next_hop[a, d] == c == 1
    assert g.next_hop[d, a] == c
    assert g.next_hop[a, b] == b
    # make the route via b shorter: the tie breaks the other way
    data = spec.model_dump()
    data["edges"][0]["length_m"] = 2.5
    g2 = compile_building(BuildingSpec.model_validate(data))
    assert g2.next_hop[a, d] == b
    assert g2.dist[a, d] == 6.5


def test_compile_is_deterministic() -> None:
    g1 = compile_building(template("office_floor"))
    g2 = compile_building(template("office_floor"))
    for name in ("dist", "next_hop", "hops", "edge_len", "adj", "exits"):
        assert np.array_equal(getattr(g1, name), getattr(g2, name))


def _lists(n: int, pairs: list[tuple[int, int]], lengths: np.ndarray) -> tuple[np.ndarray, ...]:
    """Neighbour lists (ptr, nbr, nbr_len) of an undirected graph, as ``compile_building`` lays them out."""
    ea, eb = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    src, dst, ln = np.concatenate([ea, eb]), np.concatenate([eb, ea]), np.concatenate([lengths, lengths])
    order = np.lexsort((dst, src))
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=ptr[1:])
    return ptr, dst[order].astype(np.int32), ln[order]


@pytest.mark.parametrize("budget", [building_module.NUMPY_PATHS_BUDGET, 0])
def test_path_lengths_are_scipys_dijkstra_bit_for_bit(budget: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # lengths such as 0.1 + 0.2 != 0.3 make paths of equal length in metres differ in the last bit: the
    # NumPy rounds (and, with no budget, the SciPy fallback) must pick the very same float as Dijkstra
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra as want_dijkstra

    monkeypatch.setattr(building_module, "NUMPY_PATHS_BUDGET", budget)
    if budget:  # these small graphs never need the fallback
        import scipy.sparse.csgraph

        def no_scipy(*args: object, **kw: object) -> None:
            raise AssertionError("SciPy's Dijkstra used for a small graph")

        monkeypatch.setattr(scipy.sparse.csgraph, "dijkstra", no_scipy)
    rng = np.random.default_rng(12)
    school = compile_building(template("three_floor_school"))
    graphs = [(school.n_spaces, school.nbr_ptr, school.nbr, school.nbr_len)]
    for trial in range(60):
        n = int(rng.integers(2, 80))
        pairs = {(i, int(rng.integers(0, i))) for i in range(1, n)}  # a spanning tree ...
        for a, b in rng.integers(0, n, (n, 2)):  # ... and cycles
            if a != b and (b, a) not in pairs:
                pairs.add((int(a), int(b)))
        k = len(pairs)
        lengths = [rng.choice([0.1, 0.2, 0.3, 0.7, 1.1, 3.3], k), rng.random(k) * 50 + 1e-3, np.full(k, 10.0)]
        graphs.append((n, *_lists(n, sorted(pairs), lengths[trial % 3])))
    for n, ptr, nbr, ln in graphs:
        src = np.arange(n)
        want = np.asarray(
            want_dijkstra(csr_matrix((ln, nbr, ptr), shape=(n, n)), directed=False, indices=src)
        )
        got = building_module.path_lengths(ptr, nbr, ln, src)
        assert got.dtype == np.float64 and np.array_equal(got, want)
        assert np.array_equal(building_module.path_lengths(ptr, nbr, ln, src[::-1]), want[::-1])


def test_graph_index() -> None:
    g = compile_building(BuildingSpec.model_validate(small()))
    assert g.index("room_2") == 3
    assert g.space_ids[g.index("exit_b")] == "exit_b"
    with pytest.raises(KeyError, match="no space 'gym' in building 'small'"):
        g.index("gym")
    assert list(g.exits) == [0, 4]
    assert g.default_entry == 0
    assert g.dist[g.index("room_1"), g.index("exit_b")] == 11.0
    assert g.hops[g.index("room_1"), g.index("room_2")] == 2
    assert g.next_hop[g.index("room_1"), g.index("exit_a")] == g.index("hall")


# ------------------------------------------------------------------------------------------- files


def test_load_toml_and_json(tmp_path: Path) -> None:
    spec = load_building_file(write(tmp_path, "b.toml", SMALL_TOML))
    assert [s.id for s in spec.spaces] == ["exit_a", "hall", "room_1"]
    assert spec.spaces[2].lockable and spec.spaces[2].door_window
    school = template("three_floor_school")
    p = write(tmp_path, "school.json", school.model_dump_json(indent=2))
    assert load_building_file(p) == school


def _toml_error(tmp_path: Path, text: str) -> BuildingFileError:
    with pytest.raises(BuildingFileError) as exc:
        load_building_file(write(tmp_path, "b.toml", text))
    return exc.value


def test_toml_bad_field_points_at_the_key_line(tmp_path: Path) -> None:
    text = SMALL_TOML.replace('kind = "classroom"', 'kind = "gym"')
    err = _toml_error(tmp_path, text)
    assert err.line == line_of(text, 'kind = "gym"')
    assert "spaces[2] (id 'room_1').kind" in err.message
    assert str(err) == f"{err.path}:{err.line}: {err.message}"


def test_toml_missing_field_points_at_the_table_header(tmp_path: Path) -> None:
    text = SMALL_TOML.replace('id = "hall"\nkind = "corridor"\n', 'id = "hall"\n')
    err = _toml_error(tmp_path, text)
    assert err.line == line_of(text, "[[spaces]]", 2)
    assert "spaces[1] (id 'hall').kind" in err.message


def test_toml_unknown_key_points_at_it(tmp_path: Path) -> None:
    text = SMALL_TOML.replace("length_m = 4.0", "length_m = 4.0\nwidth_m = 2.0")
    err = _toml_error(tmp_path, text)
    assert err.line == line_of(text, "width_m")
    assert "edges[1].width_m" in err.message


def test_toml_cross_field_errors_carry_lines(tmp_path: Path) -> None:
    text = SMALL_TOML.replace('b = "room_1"', 'b = "room_9"')
    err = _toml_error(tmp_path, text)
    assert err.line == line_of(text, 'b = "room_9"')
    assert "unknown space 'room_9'" in err.message

    text = SMALL_TOML.replace("occupants = 20", "occupants = 40")
    err = _toml_error(tmp_path, text)
    assert err.line == line_of(text, "occupants = 40")
    assert "'room_1' has 40 occupants > capacity 30" in err.message

    text = SMALL_TOML.replace('default_entry = "exit_a"', 'default_entry = "hall"')
    err = _toml_error(tmp_path, text)
    assert err.line == line_of(text, "default_entry")
    assert "'hall' is not an exit" in err.message

    text = SMALL_TOML + '\n[[spaces]]\nid = "island"\nkind = "lounge"\nfloor = 3\n'
    err = _toml_error(tmp_path, text)
    assert err.line == line_of(text, "[[spaces]]", 4)
    assert "not reachable from any exit: 'island'" in err.message

    text = SMALL_TOML + '\n[[spaces]]\nid = "hall"\nkind = "lounge"\nfloor = 3\n'
    err = _toml_error(tmp_path, text)
    assert err.line == line_of(text, 'id = "hall"', 2)
    assert "duplicate space id 'hall'" in err.message


def test_toml_inline_array_falls_back_to_the_array_line(tmp_path: Path) -> None:
    text = (
        'name = "inline"\ndefault_entry = "e"\n'
        'spaces = [\n  { id = "e", kind = "exit", floor = 1 },\n'
        '  { id = "r", kind = "cave", floor = 1 },\n]\n'
        'edges = [{ a = "e", b = "r", length_m = 3 }]\n'
    )
    err = _toml_error(tmp_path, text)
    assert err.line == line_of(text, "spaces = [")
    assert "spaces[1] (id 'r').kind" in err.message


def test_toml_syntax_error_has_line(tmp_path: Path) -> None:
    text = SMALL_TOML.replace('kind = "corridor"', "kind = corridor")
    err = _toml_error(tmp_path, text)
    assert err.line == line_of(text, "kind = corridor")
    assert "TOML syntax error" in err.message


def test_toml_syntax_error_at_end_of_document_has_line(tmp_path: Path) -> None:
    """Regression (fuzzing): a building TOML truncated inside an array (``length_m = [1,``) had no line."""
    text = SMALL_TOML.rstrip() + "\nextra = [1,\n\n"
    err = _toml_error(tmp_path, text)
    assert err.line == line_of(text, "extra = [1,")
    assert "TOML syntax error" in err.message


def test_json_errors(tmp_path: Path) -> None:
    with pytest.raises(BuildingFileError) as exc:
        load_building_file(write(tmp_path, "b.json", '{\n  "name": "x",\n  "spaces": [,]\n}\n'))
    assert exc.value.line == 3
    assert "JSON syntax error" in exc.value.message

    d = small()
    d["spaces"][4]["occupants"] = 1
    with pytest.raises(BuildingFileError) as exc:
        load_building_file(write(tmp_path, "b.json", json.dumps(d, indent=2)))
    assert exc.value.line is None
    assert "exit 'exit_b' has 1 occupants" in exc.value.message
    assert str(exc.value) == f"{tmp_path / 'b.json'}: {exc.value.message}"

    with pytest.raises(BuildingFileError, match="top level must be an object"):
        load_building_file(write(tmp_path, "b.json", "[1, 2]"))


def test_file_type_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BuildingFileError, match=r"unsupported file type '\.yaml'"):
        load_building_file(write(tmp_path, "b.yaml", "name: x"))
    with pytest.raises(BuildingFileError, match="cannot read") as exc:
        load_building_file(tmp_path / "missing.toml")
    assert exc.value.path == tmp_path / "missing.toml"
    assert exc.value.line is None


# ------------------------------------------------------------------------------------------- overrides


def test_override_hard_corners_and_door_windows() -> None:
    spec = template("three_floor_school")
    out = apply_overrides(
        spec, BuildingSection(template="three_floor_school", hard_corners=False, door_windows=False)
    )
    for before, after in zip(spec.spaces, out.spaces, strict=True):
        if before.lockable:
            assert (after.hard_corner, after.door_window) == (False, False)
        else:
            assert (after.hard_corner, after.door_window) == (before.hard_corner, before.door_window)
    out = apply_overrides(spec, BuildingSection(template="three_floor_school", hard_corners=True))
    assert all(s.hard_corner for s in out.spaces if s.lockable)
    assert not any(s.hard_corner for s in out.spaces if not s.lockable)
    # the input is untouched
    assert spec == template("three_floor_school")


def test_override_occupants_per_classroom_raises_capacity() -> None:
    spec = template("three_floor_school")
    out = apply_overrides(spec, BuildingSection(template="three_floor_school", occupants_per_classroom=40))
    for before, after in zip(spec.spaces, out.spaces, strict=True):
        if before.kind == "classroom":
            assert after.occupants == 40 and after.capacity == 40
        else:
            assert (after.occupants, after.capacity) == (before.occupants, before.capacity)
    out = apply_overrides(spec, BuildingSection(template="three_floor_school", occupants_per_classroom=10))
    assert {(s.occupants, s.capacity) for s in out.spaces if s.kind == "classroom"} == {(10, 35)}
    assert sum(s.occupants for s in out.spaces) == 300 + 26


def test_override_single_spaces_win_over_building_wide() -> None:
    spec = template("three_floor_school")
    section = BuildingSection(
        template="three_floor_school",
        hard_corners=True,
        occupants_per_classroom=20,
        spaces=(
            SpaceOverride(id="room_101", hard_corner=False, occupants=50),
            SpaceOverride(id="f2_hall_3", lockable=True),
            SpaceOverride(id="f3_lounge", lockable=False, door_window=False),
        ),
    )
    out = compile_building(apply_overrides(spec, section))
    r = out.index("room_101")
    assert not out.hard_corner[r] and out.occupants[r] == 50 and out.capacity[r] == 50
    assert out.occupants[out.index("room_102")] == 20
    h = out.index("f2_hall_3")
    assert out.lockable[h] and out.hard_corner[h]  # made lockable, then hard_corners applies
    lounge = out.index("f3_lounge")
    assert not out.lockable[lounge] and not out.door_window[lounge]
    assert out.hard_corner[lounge]  # the template's value: hard_corners only touches lockable spaces


def test_override_unknown_or_repeated_space_fails() -> None:
    spec = template("elementary_wing")
    with pytest.raises(ValueError, match=r"unknown space id.*'room_99'"):
        apply_overrides(
            spec, BuildingSection(template="x", spaces=(SpaceOverride(id="room_99", occupants=1),))
        )
    twice = (SpaceOverride(id="room_01", occupants=1), SpaceOverride(id="room_01", occupants=2))
    with pytest.raises(ValueError, match="'room_01' is overridden more than once"):
        apply_overrides(spec, BuildingSection(template="x", spaces=twice))
    with pytest.raises(ValueError, match="exit 'exit_east' has 3 occupants"):
        apply_overrides(
            spec, BuildingSection(template="x", spaces=(SpaceOverride(id="exit_east", occupants=3),))
        )


def test_no_overrides_is_identity() -> None:
    for name in TEMPLATES:
        spec = template(name)
        assert apply_overrides(spec, BuildingSection(template=name)) == spec


def test_toml_unknown_table_points_at_its_header(tmp_path: Path) -> None:
    """Regression (fuzzing): an injected ``[building]`` table in a building TOML gave no line."""
    text = SMALL_TOML.rstrip() + "\n\n[building]\nx = 1\n"
    err = _toml_error(tmp_path, text)
    assert err.line == line_of(text, "[building]")
    assert "unknown key" in err.message and "building" in err.message
