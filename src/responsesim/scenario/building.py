"""Buildings: a graph of spaces joined by undirected edges (lengths in metres).

Three layers:

- ``SpaceSpec`` / ``EdgeSpec`` / ``BuildingSpec``: the validated pydantic form of a building file (JSON
  or TOML, see ``load_building_file``) or of a built-in template (``TEMPLATES``, ``template``);
- ``apply_overrides``: the ``[building]`` overrides of a scenario (``schema.BuildingSection``);
- ``BuildingGraph`` (``compile_building``): immutable numpy tables the engines read (``docs/model.md``,
  section *Building*).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from responsesim.codes import DOOR_LOCK_CODES, EXIT, KIND_CODES
from responsesim.scenario.schema import BuildingSection, DoorLock, SpaceOverride, Strict

if TYPE_CHECKING:  # SciPy is imported where it is used: its import costs a quarter of a second
    from scipy.sparse import csr_matrix

SpaceKind = Literal["classroom", "office", "lounge", "restroom", "corridor", "stairwell", "open_area", "exit"]
EXIT_CODE = EXIT  # the exit space kind (codes.KIND_CODES)
LOCKABLE_KINDS = frozenset({"classroom", "office", "lounge", "restroom"})
"""Kinds whose ``lockable`` defaults to True."""

Loc = tuple[str | int, ...]


class BuildingValidationError(ValueError):
    """A cross-field problem in a building; ``loc`` points at the offending entry, e.g. ``("spaces", 3)``."""

    def __init__(self, message: str, loc: Loc = ()) -> None:
        super().__init__(message)
        self.loc = loc


# ---------------------------------------------------------------------------------------------- models


class SpaceSpec(Strict):
    """One space (room, corridor segment, stairwell landing, open area or exit)."""

    id: str = Field(min_length=1)
    kind: SpaceKind
    floor: int = Field(ge=-100, le=1000, description="floor number (1 = ground floor)")
    lockable: bool = Field(
        default=False,
        description="the door can be locked from inside; default True for classroom/office/lounge/restroom",
    )
    hard_corner: bool = Field(default=False, description="a place inside out of sight of the door window")
    door_window: bool = Field(default=False, description="the door has a window; default True when lockable")
    door_lock: DoorLock = Field(
        default="standard",
        description="the door's lock, for the time police need to breach it: none, standard or reinforced",
    )
    capacity: int = Field(default=0, ge=0, le=1_000_000, description="people; 0 = not limited")
    occupants: int = Field(default=0, ge=0, le=1_000_000, description="people in the space at the start")
    x: float = Field(default=0.0, allow_inf_nan=False, description="floor-plan position (m)")
    y: float = Field(default=0.0, allow_inf_nan=False, description="floor-plan position (m)")
    polygon: tuple[tuple[float, float], ...] | None = Field(
        default=None,
        min_length=3,
        max_length=10_000,
        description="floor-plan outline [(x, y), ...] (m), for drawing only; the engine ignores it",
    )

    @model_validator(mode="before")
    @classmethod
    def _kind_defaults(cls, data: Any) -> Any:
        """Fill ``lockable`` (from the kind) and ``door_window`` (= lockable) when omitted or null."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if data.get("lockable") is None:
            if not isinstance(data.get("kind"), str):
                data.pop("lockable", None)
                return data
            data["lockable"] = data["kind"] in LOCKABLE_KINDS
        if data.get("door_window") is None:
            data["door_window"] = data["lockable"] if isinstance(data["lockable"], bool) else False
        return data


class EdgeSpec(Strict):
    """An undirected passage between two spaces."""

    a: str
    b: str
    length_m: float = Field(gt=0, allow_inf_nan=False, description="walking length (m)")


class BuildingSpec(Strict):
    """A whole building: spaces, edges and the exit where an attacker / officers enter by default."""

    name: str
    description: str = ""
    spaces: tuple[SpaceSpec, ...]
    edges: tuple[EdgeSpec, ...]
    default_entry: str = Field(description="id of an exit space")

    @model_validator(mode="after")
    def _check(self) -> BuildingSpec:
        check_building(self)
        return self


def _edge_name(i: int, e: EdgeSpec) -> str:
    return f"edges[{i}] ({e.a!r} - {e.b!r})"


def check_building(spec: BuildingSpec) -> None:
    """Raise ``BuildingValidationError`` (a ValueError) for the first cross-field problem found."""
    pos: dict[str, int] = {}
    for i, s in enumerate(spec.spaces):
        if s.id in pos:
            raise BuildingValidationError(
                f"duplicate space id {s.id!r} (spaces[{pos[s.id]}] and spaces[{i}])", ("spaces", i, "id")
            )
        pos[s.id] = i
    seen: dict[frozenset[str], int] = {}
    nbrs: dict[str, list[str]] = {s.id: [] for s in spec.spaces}
    for i, e in enumerate(spec.edges):
        for end in ("a", "b"):
            sid = getattr(e, end)
            if sid not in pos:
                raise BuildingValidationError(f"{_edge_name(i, e)}: unknown space {sid!r}", ("edges", i, end))
        if e.a == e.b:
            raise BuildingValidationError(f"{_edge_name(i, e)}: joins space {e.a!r} to itself", ("edges", i))
        key = frozenset((e.a, e.b))
        if key in seen:
            raise BuildingValidationError(
                f"{_edge_name(i, e)}: duplicates edges[{seen[key]}] (one edge per pair of spaces)",
                ("edges", i),
            )
        seen[key] = i
        nbrs[e.a].append(e.b)
        nbrs[e.b].append(e.a)
    exits = [s.id for s in spec.spaces if s.kind == "exit"]
    if not exits:
        raise BuildingValidationError("no exit: at least one space must have kind 'exit'", ("spaces",))
    if len(exits) == len(spec.spaces):
        raise BuildingValidationError("the building has no space other than exits", ("spaces",))
    if spec.default_entry not in pos:
        raise BuildingValidationError(
            f"default_entry {spec.default_entry!r} is not a space", ("default_entry",)
        )
    entry = spec.spaces[pos[spec.default_entry]]
    if entry.kind != "exit":
        raise BuildingValidationError(
            f"default_entry {entry.id!r} is not an exit (kind {entry.kind!r})", ("default_entry",)
        )
    kind = {s.id: s.kind for s in spec.spaces}
    for i, s in enumerate(spec.spaces):
        if s.kind == "exit" and s.occupants:
            raise BuildingValidationError(
                f"exit {s.id!r} has {s.occupants} occupants; exits must start empty",
                ("spaces", i, "occupants"),
            )
        if s.kind == "exit" and not any(kind[n] != "exit" for n in nbrs[s.id]):
            raise BuildingValidationError(f"exit {s.id!r} has no edge to a non-exit space", ("spaces", i))
        if 0 < s.capacity < s.occupants:
            raise BuildingValidationError(
                f"space {s.id!r} has {s.occupants} occupants > capacity {s.capacity}",
                ("spaces", i, "occupants"),
            )
    reached = set(exits)
    queue = deque(exits)
    while queue:
        for n in nbrs[queue.popleft()]:
            if n not in reached:
                reached.add(n)
                queue.append(n)
    lost = [s.id for s in spec.spaces if s.id not in reached]
    if lost:
        shown = ", ".join(repr(x) for x in lost[:20])
        if len(lost) > 20:
            shown += f" and {len(lost) - 20} more"
        msg = f"spaces not reachable from any exit: {shown}"
        raise BuildingValidationError(msg, ("spaces", pos[lost[0]]))


# ---------------------------------------------------------------------------------------------- files


class BuildingFileError(Exception):
    """A building file that cannot be read, parsed or validated; ``line`` is 1-based or None."""

    def __init__(self, path: Path, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.path = Path(path)
        self.message = message
        self.line = line

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


_AOT_HEADER = re.compile(r"""^\s*\[\[\s*(["']?)([A-Za-z0-9_\-]+)\1\s*\]\]\s*(#.*)?$""")
_TABLE_HEADER = re.compile(r"^\s*\[[^\[]")
_KEY_LINE = re.compile(r"""^\s*(["']?)([A-Za-z0-9_\-]+)\1\s*=""")
_TOML_POS = re.compile(r"at line (\d+), column \d+")


def _toml_line(text: str, loc: Loc) -> int | None:
    """Best-effort 1-based line of ``loc`` (e.g. ``("spaces", 3, "kind")``) in a TOML text.

    Finds the ``loc[1]``-th ``[[loc[0]]]`` header and the ``loc[2] = ...`` line inside that table (the
    header line when the key is absent); a root key (``("default_entry",)``) by its ``key = ...`` line.
    """
    if not loc or not isinstance(loc[0], str):
        return None
    want: tuple[str, int] | None = None
    key: str | None = loc[0]
    if len(loc) >= 2 and isinstance(loc[1], int):
        want = (loc[0], loc[1])
        key = loc[2] if len(loc) >= 3 and isinstance(loc[2], str) else None
    current: tuple[str, int] | None = None  # None: the root table
    counts: dict[str, int] = {}
    header: int | None = None
    for n, line in enumerate(text.splitlines(), 1):
        m = _AOT_HEADER.match(line)
        if m:
            name = m.group(2)
            current = (name, counts.get(name, 0))
            counts[name] = current[1] + 1
            if current == want:
                header = n
            continue
        if _TABLE_HEADER.match(line):
            current = ("", -1)
            continue
        if current == want and key is not None:
            km = _KEY_LINE.match(line)
            if km and km.group(2) == key:
                return n
    if header is not None:
        return header
    if want is not None:  # e.g. spaces given as an inline array: point at "spaces = ["
        return _toml_line(text, (loc[0],))
    return None


def _fmt_loc(loc: Loc, data: Any) -> str:
    """``("spaces", 3, "kind")`` -> ``spaces[3] (id 'room_104').kind``."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list | tuple) and 0 <= part < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                out += f" (id {node['id']!r})"
        else:
            out += f".{part}" if out else part
            node = node.get(part) if isinstance(node, dict) else None
    return out


def _describe(err: ValidationError, data: Any) -> list[tuple[Loc, str]]:
    """(loc, message) for each error; cross-field errors use the loc of their ``BuildingValidationError``."""
    out: list[tuple[Loc, str]] = []
    for e in err.errors():
        cause = (e.get("ctx") or {}).get("error")
        loc: Loc = tuple(e["loc"])
        if isinstance(cause, BuildingValidationError):
            out.append((loc or cause.loc, str(cause)))
            continue
        msg = e["msg"].removeprefix("Value error, ")
        if e.get("type") == "extra_forbidden":
            msg = f"unknown key ({msg})"
        out.append((loc, f"{_fmt_loc(loc, data)}: {msg}" if loc else msg))
    return out


def load_building_file(path: Path) -> BuildingSpec:
    """Read and validate a building ``.json`` or ``.toml`` file; any problem raises ``BuildingFileError``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise BuildingFileError(path, f"unsupported file type {path.suffix!r}: use .json or .toml")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BuildingFileError(path, f"cannot read: {exc}") from exc
    except ValueError as exc:  # a NUL character in the path
        raise BuildingFileError(path, "cannot read: the file name contains a NUL character") from exc
    data: Any
    if suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = _TOML_POS.search(str(exc))
            line = int(m.group(1)) if m else max(1, len(text.rstrip().split("\n")))  # at end of document
            raise BuildingFileError(path, f"TOML syntax error: {exc}", line) from exc
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            msg = f"JSON syntax error: {exc.msg} (column {exc.colno})"
            raise BuildingFileError(path, msg, exc.lineno) from exc
        if not isinstance(data, dict):
            raise BuildingFileError(path, "the top level must be an object", 1)
    try:
        return BuildingSpec.model_validate(data)
    except ValidationError as exc:
        problems = _describe(exc, data)
        where: int | None = _toml_line(text, problems[0][0]) if suffix == ".toml" else None
        if where is None and suffix == ".toml":  # e.g. an unknown [table]: the general TOML locator finds it
            from responsesim.scenario.errors import locate_toml_line

            where = locate_toml_line(text, problems[0][0])
        msg = "; ".join(m for _, m in problems)
        raise BuildingFileError(path, msg, where) from exc


# ---------------------------------------------------------------------------------------------- overrides


def apply_overrides(spec: BuildingSpec, section: BuildingSection) -> BuildingSpec:
    """Apply a scenario's building overrides; returns a new validated ``BuildingSpec``.

    Order per space: its own ``lockable`` override; then the building-wide ``hard_corners`` /
    ``door_windows`` (on every lockable space) and ``occupants_per_classroom`` (every classroom); then
    its own ``hard_corner`` / ``door_window`` / ``occupants``. Setting occupants above a non-zero capacity
    raises the capacity to match. An override naming an unknown space raises ValueError.
    """
    ids = {s.id for s in spec.spaces}
    by_id: dict[str, SpaceOverride] = {}
    for o in section.spaces:
        if o.id in by_id:
            raise ValueError(f"building override: space {o.id!r} is overridden more than once")
        by_id[o.id] = o
    unknown = [i for i in by_id if i not in ids]
    if unknown:
        raise ValueError(
            f"building override: unknown space id(s) {', '.join(repr(u) for u in unknown)}"
            f" in building {spec.name!r}"
        )

    def set_occupants(d: dict[str, Any], n: int) -> None:
        d["occupants"] = n
        if 0 < d["capacity"] < n:
            d["capacity"] = n

    spaces = []
    for s in spec.spaces:
        d = s.model_dump()
        ov: SpaceOverride | None = by_id.get(s.id)
        if ov is not None and ov.lockable is not None:
            d["lockable"] = ov.lockable
        if d["lockable"]:
            if section.hard_corners is not None:
                d["hard_corner"] = section.hard_corners
            if section.door_windows is not None:
                d["door_window"] = section.door_windows
        if s.kind == "classroom" and section.occupants_per_classroom is not None:
            set_occupants(d, section.occupants_per_classroom)
        if ov is not None:
            if ov.hard_corner is not None:
                d["hard_corner"] = ov.hard_corner
            if ov.door_window is not None:
                d["door_window"] = ov.door_window
            if ov.door_lock is not None:
                d["door_lock"] = ov.door_lock
            if ov.occupants is not None:
                set_occupants(d, ov.occupants)
        spaces.append(d)
    data = spec.model_dump()
    data["spaces"] = spaces
    return BuildingSpec.model_validate(data)


# ---------------------------------------------------------------------------------------------- compiled form


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


#: the one all-pairs table, ``route`` (next hop), is int16: at most this many spaces
MAX_SPACES = int(np.iinfo(np.int16).max)
#: source rows of the shortest-path computation held at once (memory: about 3 x this x S x 8 bytes)
_ROWS_PER_BLOCK = 256
#: shortest paths from NumPy while that takes at most this many (source, edge) relaxations (about 30 ms),
#: else from SciPy's Dijkstra (the same numbers, ``path_lengths``; SciPy's import costs about 0.25 s)
NUMPY_PATHS_BUDGET = 2_000_000


@dataclass(frozen=True, eq=False)
class BuildingGraph:
    """A compiled building: per-space arrays [S], the edges as neighbour lists (CSR) and two routing
    tables; all arrays are read-only. Lengths and distances in metres.

    Stored tables grow with the edges, except ``exit_dist`` [S, E] and ``route`` [S, S] (int16, 2 bytes a
    pair; see docs/engine.md, *Memory*). The neighbours of space ``a`` are
    ``nbr[nbr_ptr[a]:nbr_ptr[a + 1]]`` (ascending) at lengths ``nbr_len[...]``. ``route[a, b]`` is the
    lowest-index neighbour ``n`` of ``a`` with ``len(a, n) + dist[n, b] <= dist[a, b] (1 + 1e-9)``
    (``route[a, a] = a``). The dense tables ``adj``, ``edge_len``, ``dist``, ``next_hop`` and ``hops``
    [S, S] are computed on first use (for drawing, the reference and peer implementations and small
    buildings); the engine never asks for them.
    """

    name: str
    space_ids: tuple[str, ...]
    kind: np.ndarray  # int8 [S] KIND_CODES
    floor: np.ndarray  # int16 [S]
    lockable: np.ndarray  # bool [S]
    hard_corner: np.ndarray  # bool [S]
    door_window: np.ndarray  # bool [S]
    capacity: np.ndarray  # int32 [S] people, 0 = not limited
    occupants: np.ndarray  # int32 [S] people at the start
    xy: np.ndarray  # float64 [S, 2] m
    nbr_ptr: np.ndarray  # int64 [S + 1] CSR row pointers
    nbr: np.ndarray  # int32 [2 x edges] neighbours, ascending within a space
    nbr_len: np.ndarray  # float64 [2 x edges] m, length of the edge to that neighbour
    exit_dist: np.ndarray  # float64 [S, E] shortest path length to each exit (m)
    route: np.ndarray  # int16 [S, S] next hop on a shortest path (see above)
    exits: np.ndarray  # int32 [E] ascending
    default_entry: int
    #: floor-plan outline of each space [(x, y), ...] (m) or None; for drawing only (the engines ignore it)
    polygons: tuple[tuple[tuple[float, float], ...] | None, ...] = ()
    #: int8 [S] codes.DOOR_LOCK_NAMES of each space's door (empty: every door ``standard``)
    door_lock: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))
    _pos: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pos", {s: i for i, s in enumerate(self.space_ids)})

    def index(self, space_id: str) -> int:
        """Index of a space by id; KeyError naming the building when unknown."""
        try:
            return self._pos[space_id]
        except KeyError:
            raise KeyError(f"no space {space_id!r} in building {self.name!r}") from None

    @property
    def n_spaces(self) -> int:
        return len(self.space_ids)

    def neighbours(self, a: int) -> np.ndarray:
        """Neighbours of space ``a``, ascending."""
        return self.nbr[self.nbr_ptr[a] : self.nbr_ptr[a + 1]]

    def weights(self) -> csr_matrix:
        """The edge lengths as a sparse [S, S] matrix (both directions)."""
        from scipy.sparse import csr_matrix

        n = self.n_spaces
        return csr_matrix((self.nbr_len, self.nbr, self.nbr_ptr), shape=(n, n))

    # dense [S, S] tables, computed on first use (S^2 entries: for small buildings and drawing only)

    @cached_property
    def adj(self) -> np.ndarray:
        """bool [S, S]: an edge joins the two spaces."""
        return _frozen(self.weights().toarray() > 0)

    @cached_property
    def edge_len(self) -> np.ndarray:
        """float64 [S, S] m: inf where no edge, 0 on the diagonal."""
        out = np.full((self.n_spaces, self.n_spaces), np.inf)
        rows = np.repeat(np.arange(self.n_spaces), np.diff(self.nbr_ptr))
        out[rows, self.nbr] = self.nbr_len
        np.fill_diagonal(out, 0.0)
        return _frozen(out)

    @cached_property
    def dist(self) -> np.ndarray:
        """float64 [S, S] m: shortest path lengths."""
        from scipy.sparse.csgraph import shortest_path

        return _frozen(np.asarray(shortest_path(self.weights(), method="D", directed=False)))

    @cached_property
    def hops(self) -> np.ndarray:
        """int16 [S, S]: edges on the fewest-edge path."""
        from scipy.sparse.csgraph import shortest_path

        hop_f = shortest_path(self.weights(), method="D", directed=False, unweighted=True)
        return _frozen(np.rint(hop_f).astype(np.int16))

    @cached_property
    def next_hop(self) -> np.ndarray:
        """int32 [S, S]: ``route`` widened."""
        return _frozen(self.route.astype(np.int32))


def path_lengths(
    ptr: np.ndarray, nbr: np.ndarray, nlen: np.ndarray, sources: np.ndarray, budget: int | None = None
) -> np.ndarray:
    """Shortest path lengths (m) from each of ``sources`` to every space: float64 [len(sources), S], inf
    where no path; the edges as neighbour lists (``BuildingGraph``: ``nbr_ptr``, ``nbr``, ``nbr_len``).

    Bit for bit SciPy's ``dijkstra(..., directed=False, indices=sources)``. Small buildings relax every
    edge at once with NumPy until nothing changes (Bellman-Ford), which spares the command line SciPy's
    import; when that would take more than ``budget`` (source, edge) relaxations in all (default
    ``NUMPY_PATHS_BUDGET``, 0: never; long chains of spaces, large buildings), SciPy's Dijkstra is used.
    With positive lengths both end at the same numbers: for every target, the smallest over all paths of
    the path's length summed edge by edge from the source in float64 (Dijkstra settles a space at that
    value; each Bellman-Ford round extends the minimum to paths of one more edge), whatever the order of
    the work.
    """
    n = ptr.shape[0] - 1
    src = np.asarray(sources, dtype=np.int64)
    linked = np.diff(ptr) > 0  # spaces with an edge (the segments of ``nbr`` to reduce over)
    rounds = (NUMPY_PATHS_BUDGET if budget is None else budget) // max(src.shape[0] * nbr.shape[0], 1)
    if rounds >= 2 and linked.any():
        d = np.full((src.shape[0], n), np.inf)
        d[np.arange(src.shape[0]), src] = 0.0
        starts = ptr[:-1][linked]
        for _ in range(rounds):
            # the best length into each space over one more edge: min over its neighbours m of d[m] + len
            via = np.minimum.reduceat(d[:, nbr] + nlen, starts, axis=1)
            new = d.copy()
            new[:, linked] = np.minimum(d[:, linked], via)
            if np.array_equal(new, d):
                return d
            d = new
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    graph = csr_matrix((nlen, nbr, ptr), shape=(n, n))
    return np.asarray(dijkstra(graph, directed=False, indices=src), dtype=np.float64)


def _routes(
    ptr: np.ndarray, nbr: np.ndarray, nlen: np.ndarray, exits: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(``exit_dist`` [S, E], ``route`` [S, S] int16) from the neighbour lists.

    Shortest path lengths (``path_lengths``) are computed one block of source rows at a time, with the
    rows of the block's neighbours, so no [S, S] float table is ever held: row ``a`` of the next-hop table
    needs the distances from ``a`` and from each neighbour of ``a``. Each row is exactly the row of the
    whole table at once (the lengths from one source do not depend on the other sources), so the tables do
    not depend on the block size. A building of more than one block takes its lengths from SciPy at once
    (NumPy's rounds would mostly be spent before ``path_lengths`` hands over).
    """
    n = ptr.shape[0] - 1
    budget = None if n <= _ROWS_PER_BLOCK else 0
    exit_dist = np.empty((n, exits.shape[0]))
    route = np.empty((n, n), dtype=np.int16)
    row_of = np.full(n, -1, dtype=np.int64)
    in_block = np.zeros(n, dtype=bool)
    for lo in range(0, n, _ROWS_PER_BLOCK):
        hi = min(lo + _ROWS_PER_BLOCK, n)
        # the block's spaces and their neighbours, ascending (np.union1d's result; it imports numpy.ma, 10 ms)
        in_block[:] = False
        in_block[lo:hi] = True
        in_block[nbr[ptr[lo] : ptr[hi]]] = True
        need = np.flatnonzero(in_block)
        d = path_lengths(ptr, nbr, nlen, need, budget)
        if not np.isfinite(d).all():
            raise ValueError("not connected")
        row_of[need] = np.arange(need.shape[0])
        exit_dist[lo:hi] = d[row_of[lo:hi]][:, exits]
        for a in range(lo, hi):
            nb = nbr[ptr[a] : ptr[a + 1]]
            total = nlen[ptr[a] : ptr[a + 1], None] + d[row_of[nb]]  # [k, S]
            ok = total <= d[row_of[a]][None, :] * (1.0 + 1e-9)
            ok[:, a] = True  # the diagonal is set below
            if not ok.any(axis=0).all():  # pragma: no cover - d is a shortest-path table
                raise ValueError("inconsistent shortest-path table")
            route[a] = nb[np.argmax(ok, axis=0)]
            route[a, a] = a
        row_of[need] = -1
    return exit_dist, route


def compile_building(spec: BuildingSpec) -> BuildingGraph:
    """Compile a validated ``BuildingSpec``; space index = position in ``spec.spaces``."""
    ids = tuple(s.id for s in spec.spaces)
    pos = {sid: i for i, sid in enumerate(ids)}
    n = len(ids)
    if n > MAX_SPACES:
        raise ValueError(f"building {spec.name!r} has {n} spaces; at most {MAX_SPACES} are supported")
    # neighbour lists (CSR), sorted by (space, neighbour): both directions of every edge
    ea = np.array([pos[e.a] for e in spec.edges], dtype=np.int64)
    eb = np.array([pos[e.b] for e in spec.edges], dtype=np.int64)
    el = np.array([e.length_m for e in spec.edges], dtype=np.float64)
    src, dst, length = np.concatenate([ea, eb]), np.concatenate([eb, ea]), np.concatenate([el, el])
    order = np.lexsort((dst, src))
    src, dst, length = src[order], dst[order], length[order]
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=ptr[1:])
    nbr = dst.astype(np.int32)
    kind = np.array([KIND_CODES[s.kind] for s in spec.spaces], dtype=np.int8)
    exits = np.flatnonzero(kind == EXIT_CODE).astype(np.int32)
    try:
        exit_dist, route = _routes(ptr, nbr, length, exits)
    except ValueError as exc:
        if str(exc) != "not connected":  # pragma: no cover
            raise
        raise ValueError(f"building {spec.name!r} is not connected") from None
    return BuildingGraph(
        name=spec.name,
        space_ids=ids,
        kind=_frozen(kind),
        floor=_frozen(np.array([s.floor for s in spec.spaces], dtype=np.int16)),
        lockable=_frozen(np.array([s.lockable for s in spec.spaces], dtype=bool)),
        hard_corner=_frozen(np.array([s.hard_corner for s in spec.spaces], dtype=bool)),
        door_window=_frozen(np.array([s.door_window for s in spec.spaces], dtype=bool)),
        capacity=_frozen(np.array([s.capacity for s in spec.spaces], dtype=np.int32)),
        occupants=_frozen(np.array([s.occupants for s in spec.spaces], dtype=np.int32)),
        xy=_frozen(np.array([[s.x, s.y] for s in spec.spaces], dtype=np.float64).reshape(n, 2)),
        nbr_ptr=_frozen(ptr),
        nbr=_frozen(nbr),
        nbr_len=_frozen(length),
        exit_dist=_frozen(exit_dist),
        route=_frozen(route),
        exits=_frozen(exits),
        default_entry=pos[spec.default_entry],
        polygons=tuple(s.polygon for s in spec.spaces),
        door_lock=_frozen(np.array([DOOR_LOCK_CODES[s.door_lock] for s in spec.spaces], dtype=np.int8)),
    )


# ---------------------------------------------------------------------------------------------- templates


def _room(sid: str, kind: SpaceKind, floor: int, x: float, y: float, **kw: Any) -> SpaceSpec:
    return SpaceSpec(id=sid, kind=kind, floor=floor, x=x, y=y, **kw)


def _edge(a: str, b: str, length_m: float) -> EdgeSpec:
    return EdgeSpec(a=a, b=b, length_m=length_m)


def three_floor_school() -> BuildingSpec:
    """Three-floor classroom building modelled on a Parkland-style "1200 building".

    Per floor: a hallway along x of six 10 m corridor segments (x = 10..60 m, y = 0), a west (x = 0) and
    an east (x = 70) stairwell landing, and on five segments a pair of facing classrooms (y = +-8 m, door
    edge 5 m): 30 classrooms of 30 occupants (capacity 35). The middle segment (x = 30) holds the main
    office, a restroom and the main entrance (floor 1), two restrooms (floor 2), the teachers' lounge
    and a restroom (floor 3). Stairwells link floors (12 m); exits at both stairwells and the main entrance.
    """
    spaces: list[SpaceSpec] = []
    edges: list[EdgeSpec] = []
    for f in (1, 2, 3):
        hall = [f"f{f}_hall_{i}" for i in range(6)]
        west, east = f"f{f}_stair_west", f"f{f}_stair_east"
        spaces.append(_room(west, "stairwell", f, 0.0, 0.0))
        for i, h in enumerate(hall):
            spaces.append(_room(h, "corridor", f, 10.0 + 10.0 * i, 0.0))
        spaces.append(_room(east, "stairwell", f, 70.0, 0.0))
        edges.append(_edge(west, hall[0], 10.0))
        edges += [_edge(hall[i], hall[i + 1], 10.0) for i in range(5)]
        edges.append(_edge(hall[5], east, 10.0))
        room_no = 1
        for i, h in enumerate(hall):
            x = 10.0 + 10.0 * i
            if i == 2:
                continue
            for y in (8.0, -8.0):
                sid = f"room_{f}{room_no:02d}"
                room_no += 1
                spaces.append(_room(sid, "classroom", f, x, y, hard_corner=True, capacity=35, occupants=30))
                edges.append(_edge(h, sid, 5.0))
        mid = hall[2]
        if f == 1:
            extra = [
                _room("f1_office", "office", 1, 26.0, 8.0, hard_corner=True, capacity=15, occupants=8),
                _room("f1_restroom", "restroom", 1, 34.0, 8.0, door_window=False, capacity=6, occupants=2),
                _room("main_entrance", "exit", 1, 30.0, -10.0),
            ]
        elif f == 2:
            extra = [
                _room("f2_restroom_n", "restroom", 2, 30.0, 8.0, door_window=False, capacity=6, occupants=2),
                _room("f2_restroom_s", "restroom", 2, 30.0, -8.0, door_window=False, capacity=6, occupants=2),
            ]
        else:
            extra = [
                _room("f3_lounge", "lounge", 3, 30.0, 8.0, hard_corner=True, capacity=30, occupants=10),
                _room("f3_restroom", "restroom", 3, 30.0, -8.0, door_window=False, capacity=6, occupants=2),
            ]
        spaces += extra
        edges += [_edge(mid, s.id, 10.0 if s.kind == "exit" else 5.0) for s in extra]
        if f > 1:
            edges.append(_edge(f"f{f - 1}_stair_west", west, 12.0))
            edges.append(_edge(f"f{f - 1}_stair_east", east, 12.0))
    spaces.append(_room("exit_west", "exit", 1, -8.0, 0.0))
    spaces.append(_room("exit_east", "exit", 1, 78.0, 0.0))
    edges += [_edge("f1_stair_west", "exit_west", 8.0), _edge("f1_stair_east", "exit_east", 8.0)]
    return BuildingSpec(
        name="three_floor_school",
        description="Three floors, 30 classrooms off one hallway per floor, east/west stairwells",
        spaces=tuple(spaces),
        edges=tuple(edges),
        default_entry="exit_east",
    )


def elementary_wing() -> BuildingSpec:
    """One-floor elementary wing: 12 classrooms (25 occupants each) on a 60 m corridor, an office.

    Lobby at x = 0 (office north, restroom south, west entrance at x = -8 m); corridor segments at
    x = 10..60 m with a pair of facing classrooms each (y = +-8 m, door edge 5 m); east exit at x = 70 m.
    """
    spaces = [
        _room("exit_west", "exit", 1, -8.0, 0.0),
        _room("lobby", "corridor", 1, 0.0, 0.0),
        _room("office", "office", 1, 0.0, 8.0, hard_corner=True, capacity=10, occupants=4),
        _room("restroom", "restroom", 1, 0.0, -8.0, door_window=False, capacity=6),
    ]
    edges = [
        _edge("exit_west", "lobby", 8.0),
        _edge("lobby", "office", 5.0),
        _edge("lobby", "restroom", 5.0),
        _edge("lobby", "hall_0", 10.0),
    ]
    room_no = 1
    for i in range(6):
        h, x = f"hall_{i}", 10.0 + 10.0 * i
        spaces.append(_room(h, "corridor", 1, x, 0.0))
        if i:
            edges.append(_edge(f"hall_{i - 1}", h, 10.0))
        for y in (8.0, -8.0):
            sid = f"room_{room_no:02d}"
            room_no += 1
            spaces.append(_room(sid, "classroom", 1, x, y, hard_corner=True, capacity=30, occupants=25))
            edges.append(_edge(h, sid, 5.0))
    spaces.append(_room("exit_east", "exit", 1, 70.0, 0.0))
    edges.append(_edge("hall_5", "exit_east", 10.0))
    return BuildingSpec(
        name="elementary_wing",
        description="One floor, 12 classrooms of 25 on one corridor, an office, two exits (~300 occupants)",
        spaces=tuple(spaces),
        edges=tuple(edges),
        default_entry="exit_west",
    )


def office_floor() -> BuildingSpec:
    """One open-plan office floor (~60 x 35 m, 200 occupants).

    Three open areas (50 people each, not lockable) along the north side, joined to each other; a lobby
    corridor with the main exit and two side corridors along the south core; six lockable offices (2
    each), three meeting rooms (8 each, glass-walled: door window, no hard corner), a break room (10)
    and two restrooms; a fire exit at the east end.
    """
    spaces = [
        _room("exit_main", "exit", 1, 30.0, -18.0),
        _room("lobby", "corridor", 1, 30.0, -10.0),
        _room("corridor_w", "corridor", 1, 15.0, -10.0),
        _room("corridor_e", "corridor", 1, 45.0, -10.0),
        _room("exit_fire", "exit", 1, 60.0, -10.0),
        _room("open_west", "open_area", 1, 10.0, 8.0, capacity=60, occupants=50),
        _room("open_center", "open_area", 1, 30.0, 8.0, capacity=60, occupants=50),
        _room("open_east", "open_area", 1, 50.0, 8.0, capacity=60, occupants=50),
        _room("break_room", "lounge", 1, 37.0, -3.0, capacity=20, occupants=10),
        _room("restroom_w", "restroom", 1, 25.0, -16.0, door_window=False, capacity=4, occupants=2),
        _room("restroom_e", "restroom", 1, 35.0, -16.0, door_window=False, capacity=4, occupants=2),
    ]
    edges = [
        _edge("exit_main", "lobby", 8.0),
        _edge("lobby", "corridor_w", 15.0),
        _edge("lobby", "corridor_e", 15.0),
        _edge("corridor_e", "exit_fire", 15.0),
        _edge("lobby", "open_center", 15.0),
        _edge("corridor_w", "open_west", 15.0),
        _edge("corridor_e", "open_east", 15.0),
        _edge("open_west", "open_center", 20.0),
        _edge("open_center", "open_east", 20.0),
        _edge("lobby", "break_room", 8.0),
        _edge("lobby", "restroom_w", 6.0),
        _edge("lobby", "restroom_e", 6.0),
    ]
    office_doors = [(5.0, "corridor_w"), (12.0, "corridor_w"), (19.0, "corridor_w")]
    office_doors += [(41.0, "corridor_e"), (48.0, "corridor_e"), (55.0, "corridor_e")]
    for k, (x, hall) in enumerate(office_doors, 1):
        spaces.append(_room(f"office_{k}", "office", 1, x, -16.0, hard_corner=True, capacity=4, occupants=2))
        edges.append(_edge(hall, f"office_{k}", 6.0))
    for k, (x, hall) in enumerate([(5.0, "corridor_w"), (23.0, "lobby"), (55.0, "corridor_e")], 1):
        spaces.append(_room(f"meeting_{k}", "office", 1, x, -3.0, capacity=12, occupants=8))
        edges.append(_edge(hall, f"meeting_{k}", 7.0))
    return BuildingSpec(
        name="office_floor",
        description="Open-plan office floor: three open areas, offices, meeting rooms, two exits",
        spaces=tuple(spaces),
        edges=tuple(edges),
        default_entry="exit_main",
    )


TEMPLATES: dict[str, Callable[[], BuildingSpec]] = {
    "three_floor_school": three_floor_school,
    "elementary_wing": elementary_wing,
    "office_floor": office_floor,
}


def template(name: str) -> BuildingSpec:
    """A built-in building by name; KeyError listing the known names when unknown."""
    try:
        factory = TEMPLATES[name]
    except KeyError:
        raise KeyError(f"unknown building template {name!r}; known: {', '.join(sorted(TEMPLATES))}") from None
    return factory()
