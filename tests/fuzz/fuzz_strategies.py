"""Hypothesis strategies and the shared property for fuzzing every input parser.

Three kinds of input:

- random text / bytes shaped like the format (TOML-ish lines, CSV-ish rows) or not shaped at all;
- mutations of the valid files in the repository (delete / duplicate / swap lines, flip characters, replace
  a value by one of another type or out of range, rename or inject keys, truncate, inject raw bytes
  including invalid UTF-8 and NUL);
- documents generated from the pydantic models' fields with values drawn inside and outside their bounds.

``check_parse`` runs one parser call under a hang guard and classifies it: loaded (then a sanity check
of the result runs) or rejected with the documented error (then the error must name the file and a line
or a field). Anything else fails the test. ``COUNTS`` records every input tried, per parser; the
``conftest`` prints them at the end of the run.
"""

from __future__ import annotations

import math
import os
import re
import signal
import string
import types
import typing
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal, TypeVar

import annotated_types
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from pydantic import BaseModel

REPO = Path(__file__).resolve().parents[2]
HEAVY = os.environ.get("RESPONSESIM_FUZZ", "").strip().lower() == "heavy"
MULTIPLIER = 20 if HEAVY else 1

#: parser name -> Counter of outcomes ("loaded", "rejected"); filled by ``check_parse``
COUNTS: dict[str, Counter[str]] = {}

T = TypeVar("T")


def fuzz_settings(max_examples: int, deadline_ms: int | None = 10_000) -> settings:
    """Hypothesis settings for a fuzz test: ``max_examples`` (x20 with RESPONSESIM_FUZZ=heavy).

    Default runs are derandomized (the same inputs every CI run); heavy runs draw fresh random inputs.
    No example database is written into the working tree. The hypothesis deadline (10 s per example) is
    far above the slowest parse measured (about 0.3 s) so a busy CI machine does not make it flaky; the
    preemptive ``hang_guard`` in ``check_parse`` stops a call that never returns.
    """
    return settings(
        max_examples=max_examples * MULTIPLIER,
        deadline=deadline_ms,
        derandomize=not HEAVY,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
    )


# ---------------------------------------------------------------------------------------------- hang guard


class ParserHangError(Exception):
    """A single parser call ran longer than its guard (seconds): treated as a hang."""


@contextmanager
def hang_guard(seconds: float) -> Iterator[None]:
    """Raise ``ParserHangError`` in the block after ``seconds`` of wall-clock time (SIGALRM, main thread)."""

    def _raise(signum: int, frame: object) -> None:
        raise ParserHangError(f"parser did not return within {seconds:g} s")

    old = signal.signal(signal.SIGALRM, _raise)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------------------------------------- the property


def count(parser: str, outcome: str) -> None:
    COUNTS.setdefault(parser, Counter())[outcome] += 1


def check_parse(
    parser: str,
    call: Callable[[], T],
    error: type[BaseException] | tuple[type[BaseException], ...],
    is_clear: Callable[[Any], None],
    is_sane: Callable[[T], None],
    guard_s: float = 20.0,
) -> T | None:
    """Run ``call``: a result must pass ``is_sane``; an ``error`` must pass ``is_clear``; anything else
    (another exception, a hang longer than ``guard_s`` seconds) propagates and fails the example.

    Returns the result (None when rejected)."""
    try:
        with hang_guard(guard_s):
            result = call()
    except error as exc:
        is_clear(exc)
        count(parser, "rejected")
        return None
    is_sane(result)
    count(parser, "loaded")
    return result


_LOC_WORD = re.compile(r"[A-Za-z_]")


def assert_clear_input_error(exc: Any, files: tuple[str, ...], text: str | None) -> None:
    """The documented ``InputError`` format: ``file:line: field: message``.

    The file is one of ``files``; a syntax error gives the line; any other problem with the content gives
    a field or a line; only an unreadable / non-UTF-8 file may name the file alone. A given line lies
    inside the text."""
    s = str(exc)
    assert exc.file in files, f"error names {exc.file!r}, expected one of {files}: {s}"
    assert s.startswith(exc.file), s
    assert exc.message and exc.message.strip(), repr(exc)
    assert "Traceback" not in s, s
    whole_file = any(w in exc.message for w in ("UTF-8", "cannot read", "base scenario"))
    if "syntax error" in exc.message:
        assert exc.line is not None, f"syntax error without a line: {s}"
    elif not whole_file:
        assert exc.line is not None or exc.field is not None, f"no line or field: {s}"
    if exc.field is not None:
        assert _LOC_WORD.search(exc.field) or exc.field.startswith("["), f"bad field {exc.field!r}: {s}"
    if exc.line is not None and text is not None and exc.file == files[0]:
        n_lines = text.count("\n") + 1
        assert 1 <= exc.line <= n_lines + 1, f"line {exc.line} outside the file ({n_lines} lines): {s}"


# ---------------------------------------------------------------------------------------------- values

#: TOML value literals of every type, in and out of range, malformed, huge or exotic
WEIRD_TOML: tuple[str, ...] = (
    '""',
    '"never"',
    '"x"',
    "-1",
    "0",
    "-0.0",
    "1",
    "2",
    "0.5",
    "3.0",
    "1e-300",
    "1e300",
    "1e309",
    "-1e309",
    "nan",
    "+inf",
    "-inf",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "1" + "0" * 400,
    "true",
    "false",
    "[]",
    "{}",
    "[1, 2]",
    '["a", 1]',
    "[[1], [2]]",
    "{ a = 1 }",
    '{ id = "x", kind = "exit" }',
    "1979-05-27T07:32:00Z",
    "1979-05-27",
    "07:32:00",
    '"\\u0000"',
    '"a\\u0000b.toml"',
    '"ü€😀"',
    '"\\u202e"',
    "'literal'",
    '"""multi\nline"""',
    "0x10",
    "1_000",
    '"../x.toml"',
    '"/dev/null"',
    '"."',
    '"/"',
    '"/proc/self/mem"',
    '"nonexistent.json"',
    '"building.txt"',
    "= 1",
    '"unterminated',
    "[1, 2",
    "{ a = 1",
)

SCENARIO_KEYS: tuple[str, ...] = (
    "name",
    "seed",
    "replications",
    "horizon_s",
    "tick_s",
    "template",
    "file",
    "spaces",
    "id",
    "occupants",
    "kind",
    "n",
    "threshold_s",
    "delay_s",
    "weapon",
    "entry_space",
    "present",
    "armed",
    "count",
    "lockdown_at_s",
    "fire_alarm_at_s",
    "base",
    "path",
    "values",
    "range",
    "step",
    "method",
    "rules",
    "events",
    "roles",
    "trigger",
    "state",
    "within_s",
    "pattern",
    "column",
    "edges",
    "a",
    "b",
    "length_m",
    "default_entry",
    "unknown_key",
    "ñame",
    "",
)
HEADERS: tuple[str, ...] = (
    "[building]",
    "[[building.spaces]]",
    "[responders.sro]",
    "[responders.sro.doctrine]",
    "[doctrine]",
    "[model]",
    "[care]",
    "[sweep]",
    "[[parameter]]",
    "[sampling]",
    "[protocol]",
    "[[rules]]",
    "[states.holding]",
    "[active]",
    "[vocabulary]",
    "[[spaces]]",
    "[[edges]]",
    "[x]",
    "[[x]]",
    "[a.b.c]",
    "[]",
    "[[]]",
    "[building",
    "[[rules]",
)
PRINTABLE = string.ascii_letters + string.digits + " =[]{}.,#\"'\\-_+:\t"


def toml_string(s: str) -> str:
    """A TOML basic string literal for ``s`` (control characters escaped)."""
    out = []
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_value(v: Any) -> str:
    """A TOML literal for a Python value (dicts as inline tables)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(toml_value(x) for x in v if x is not None) + "]"
    if isinstance(v, dict):
        pairs = (f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items() if x is not None)
        return "{ " + ", ".join(pairs) + " }"
    return toml_string(str(v))


def toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else toml_string(k)


def _is_aot(v: Any) -> bool:
    return isinstance(v, list | tuple) and bool(v) and all(isinstance(x, dict) for x in v)


def toml_dumps(data: dict[str, Any], _path: tuple[str, ...] = ()) -> str:
    """A small TOML writer: scalars first, then ``[tables]`` and ``[[arrays of tables]]``; None is omitted."""
    lines: list[str] = []
    for k, v in data.items():
        if v is None or isinstance(v, dict) or _is_aot(v):
            continue
        lines.append(f"{toml_key(k)} = {toml_value(v)}")
    for k, v in data.items():
        path = (*_path, k)
        head = ".".join(toml_key(p) for p in path)
        if isinstance(v, dict):
            lines.append(f"\n[{head}]")
            lines.append(toml_dumps(v, path))
        elif _is_aot(v):
            for item in v:
                lines.append(f"\n[[{head}]]")
                lines.append(
                    "\n".join(f"{toml_key(a)} = {toml_value(b)}" for a, b in item.items() if b is not None)
                )
    return "\n".join(lines) + "\n"


weird_toml_values = st.one_of(
    st.sampled_from(WEIRD_TOML),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats().map(toml_value),
    st.text(max_size=40).map(toml_string),
    st.integers(min_value=1_000, max_value=20_000).map(lambda n: toml_string("x" * n)),
)


# ---------------------------------------------------------------------------------------------- mutations

_KEY_LINE = re.compile(r"""^(\s*)([A-Za-z0-9_."'\-]+)(\s*=\s*)(.*)$""")
_MUTATIONS = (
    "delete",
    "duplicate",
    "swap",
    "flip",
    "value",
    "rename",
    "inject_key",
    "inject_header",
    "truncate",
    "bytes",
)
_FLIP_CHARS = st.one_of(
    st.sampled_from([*PRINTABLE, "\n", "\x00", "\r", "\x7f", "é", "\u2028", "😀"]), st.characters()
)
_RAW_BYTES = st.one_of(
    st.sampled_from([b"\x00", b"\xff", b"\xfe\xff", b"\xc3", b"\xe2\x82", b"\xef\xbb\xbf", b"\x80\x80"]),
    st.binary(min_size=1, max_size=16),
)


def _toml_mutation(draw: Any, lines: list[str], raw: bytearray | None) -> bytearray | None:
    """Apply one TOML-oriented mutation to ``lines`` in place; byte-level ones return the new bytes."""
    op = draw(st.sampled_from(_MUTATIONS))
    if raw is not None or op in ("truncate", "bytes"):
        data = raw if raw is not None else bytearray("\n".join(lines).encode("utf-8"))
        pos = draw(st.integers(0, len(data)))
        if op == "truncate":
            return data[:pos]
        if op == "bytes" or raw is not None:
            return data[:pos] + draw(_RAW_BYTES) + data[pos:]
    if not lines:
        lines.append("")
    i = draw(st.integers(0, len(lines) - 1))
    if op == "delete":
        del lines[i]
    elif op == "duplicate":
        lines.insert(i, lines[i])
    elif op == "swap":
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    elif op == "flip":
        line = lines[i]
        p = draw(st.integers(0, len(line)))
        lines[i] = line[:p] + draw(_FLIP_CHARS) + line[p + 1 :]
    elif op in ("value", "rename"):
        keyed = [k for k, line in enumerate(lines) if _KEY_LINE.match(line)]
        if keyed:
            k = keyed[draw(st.integers(0, len(keyed) - 1))]
            m = _KEY_LINE.match(lines[k])
            assert m is not None
            if op == "value":
                lines[k] = m.group(1) + m.group(2) + m.group(3) + draw(weird_toml_values)
            else:
                new = draw(st.one_of(st.sampled_from(SCENARIO_KEYS), st.text(PRINTABLE, max_size=12)))
                lines[k] = m.group(1) + new + m.group(3) + m.group(4)
    elif op == "inject_key":
        key = draw(st.sampled_from(SCENARIO_KEYS))
        lines.insert(i, f"{toml_key(key) if key else key} = {draw(weird_toml_values)}")
    elif op == "inject_header":
        lines.insert(i, draw(st.sampled_from(HEADERS)))
    return None


@st.composite
def mutated_toml(draw: Any, base: str, max_ops: int = 4) -> bytes:
    """``base`` (a valid TOML file) after 1..``max_ops`` random mutations, as bytes."""
    lines = base.split("\n")
    raw: bytearray | None = None
    for _ in range(draw(st.integers(1, max_ops))):
        raw = _toml_mutation(draw, lines, raw)
    return bytes(raw) if raw is not None else "\n".join(lines).encode("utf-8")


@st.composite
def toml_like(draw: Any) -> bytes:
    """Random lines that look like TOML: keys with weird values, headers, junk."""
    line = st.one_of(
        st.builds(
            lambda k, v: f"{toml_key(k) if k else k} = {v}",
            st.sampled_from(SCENARIO_KEYS),
            weird_toml_values,
        ),
        st.sampled_from(HEADERS),
        st.text(PRINTABLE, max_size=30),
        st.just(""),
        st.just("# comment"),
    )
    return "\n".join(draw(st.lists(line, max_size=25))).encode("utf-8")


any_bytes = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400).map(lambda s: s.encode("utf-8")),
)


def random_toml_inputs() -> st.SearchStrategy[bytes]:
    """Unstructured input for a TOML parser: TOML-like lines, any text, any bytes."""
    return st.one_of(toml_like(), toml_like(), any_bytes)


# ---------------------------------------------------------------------------------------------- CSV

WEIRD_CELLS: tuple[str, ...] = (
    "",
    " ",
    "2018-02-14 14:21:16",
    "2018-02-14T14:21:16",
    "2018-02-14 25:61:61",
    "2018-02-30 10:00:00",
    "1900-01-01 00:00:00",
    "9999-12-31 23:59:59",
    "0001-01-01 00:00:00",
    "14:21:16",
    "-1",
    "nan",
    '"quoted, with comma"',
    '"unterminated',
    'a"b',
    "shots_fired",
    "attacker",
    "sro",
    "unknown_event",
    "exact",
    "approximate",
    "count=3",
    "count=x",
    "count=99999999999999999999",
    "ü€😀",
    "\x00",
    "\u2028",
    "x" * 5000,
)
_CSV_OPS = ("delete", "duplicate", "swap", "flip", "cell", "add_cell", "drop_cell", "truncate", "bytes")


@st.composite
def mutated_csv(draw: Any, base: str, max_ops: int = 4) -> bytes:
    """``base`` (a valid CSV file) after 1..``max_ops`` row / cell / character / byte mutations."""
    lines = base.rstrip("\n").split("\n")
    raw: bytearray | None = None
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(st.sampled_from(_CSV_OPS))
        if raw is not None or op in ("truncate", "bytes"):
            data = raw if raw is not None else bytearray("\n".join(lines).encode("utf-8"))
            pos = draw(st.integers(0, len(data)))
            raw = data[:pos] if op == "truncate" else data[:pos] + draw(_RAW_BYTES) + data[pos:]
            continue
        if not lines:
            lines.append("")
        i = draw(st.integers(0, len(lines) - 1))
        cells = lines[i].split(",")
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "flip":
            p = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:p] + draw(_FLIP_CHARS) + lines[i][p + 1 :]
        elif op == "cell":
            cells[draw(st.integers(0, len(cells) - 1))] = draw(
                st.one_of(st.sampled_from(WEIRD_CELLS), st.text(max_size=20))
            )
            lines[i] = ",".join(cells)
        elif op == "add_cell":
            cells.insert(draw(st.integers(0, len(cells))), draw(st.sampled_from(WEIRD_CELLS)))
            lines[i] = ",".join(cells)
        elif op == "drop_cell":
            del cells[draw(st.integers(0, len(cells) - 1))]
            lines[i] = ",".join(cells)
    return bytes(raw) if raw is not None else ("\n".join(lines) + "\n").encode("utf-8")


@st.composite
def csv_like(draw: Any, columns: tuple[str, ...]) -> bytes:
    """A header (the real columns, shuffled, partial or extra) and rows of weird cells."""
    header = draw(
        st.one_of(
            st.just(list(columns)),
            st.permutations(list(columns)),
            st.lists(st.sampled_from([*columns, "extra", "", "Time "]), max_size=10),
        )
    )
    cell = st.one_of(st.sampled_from(WEIRD_CELLS), st.text(max_size=15))
    rows = draw(st.lists(st.lists(cell, min_size=len(header), max_size=len(header) + 1), max_size=8))
    return "\n".join(",".join(r) for r in [header, *rows]).encode("utf-8")


# ---------------------------------------------------------------------------------------------- from models


def _bounds(metadata: list[Any]) -> tuple[float | None, float | None]:
    lo: float | None = None
    hi: float | None = None
    for m in metadata:
        if isinstance(m, annotated_types.Ge | annotated_types.Gt):
            lo = float(m.ge if isinstance(m, annotated_types.Ge) else m.gt)
        if isinstance(m, annotated_types.Le | annotated_types.Lt):
            hi = float(m.le if isinstance(m, annotated_types.Le) else m.lt)
    return lo, hi


def _number(is_int: bool, lo: float | None, hi: float | None, bad: bool) -> st.SearchStrategy[Any]:
    """Numbers inside [lo, hi]; or (``bad``) on and just past the bounds, far outside, nan, inf."""
    a = lo if lo is not None else -1e6
    b = hi if hi is not None else max(a, 0.0) + 1e4
    if not bad:
        if is_int:
            return st.integers(math.ceil(a), math.floor(min(b, 2**62)))
        return st.floats(a, b, allow_nan=False, allow_infinity=False)
    edges = [x for x in (lo, hi) if x is not None]
    past = [x - 1 for x in edges] + [x + 1 for x in edges] + [x * 1.000001 + 1e-9 for x in edges]
    near: list[Any] = [int(x) if is_int and float(x).is_integer() else x for x in edges + past]
    outside = st.sampled_from([*near, -1, 0, 2**63, -(2**63) - 1, 1e308])
    specials = st.sampled_from([math.nan, math.inf, -math.inf, 1e-300, -0.0, 10**400])
    return st.one_of(outside, specials, _wrong_type())


def _wrong_type() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(["", "never", "ten", True, False, [], {}, [1, "a"], {"x": 1}]),
        st.text(max_size=10),
    )


Hints = dict[str, st.SearchStrategy[Any]]


def _unwrap(annotation: Any, metadata: list[Any]) -> tuple[Any, list[Any]]:
    """Strip ``Annotated`` (collecting its constraints) and ``Optional``/unions of one non-None type."""
    while True:
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is typing.Annotated:
            annotation, metadata = args[0], [*metadata, *getattr(args[1], "metadata", [])]
        elif origin in (typing.Union, types.UnionType):
            rest = [a for a in args if a is not type(None)]
            if len(rest) != 1:
                return annotation, metadata
            annotation = rest[0]
        else:
            return annotation, metadata


def _valid(
    annotation: Any, metadata: list[Any], name: str, hints: Hints, depth: int
) -> st.SearchStrategy[Any]:
    """Values of a field's type inside its bounds (a static strategy, built once: fast to draw)."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _valid(args[0], [*metadata, *getattr(args[1], "metadata", [])], name, hints, depth)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(_valid(a, metadata, name, hints, depth) for a in args if a is not type(None)))
    if origin is Literal:
        return st.sampled_from(args)
    if origin in (list, tuple):
        return st.lists(_valid(args[0] if args else Any, [], name, hints, depth + 1), max_size=3)
    if origin is dict:
        key = hints.get(f"{name}.key", st.text(max_size=10))
        return st.dictionaries(key, _valid(args[1], [], name, hints, depth + 1), max_size=2)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return st.just({}) if depth > 3 else _model_strategy(annotation, hints, depth + 1)
    if annotation in (int, float):
        lo, hi = _bounds(metadata)
        return _number(annotation is int, lo, hi, False)
    if annotation is bool:
        return st.booleans()
    if annotation is str:
        return hints.get(name, st.text(max_size=12))
    return st.one_of(st.integers(), st.text(max_size=5))


def _model_strategy(model: type[BaseModel], hints: Hints, depth: int = 0) -> st.SearchStrategy[Any]:
    """A valid-typed dict for ``model``: required fields 9 in 10, optional ones 3 in 10."""
    names = list(model.model_fields)
    cuts = [9 if info.is_required() else 3 for info in model.model_fields.values()]
    parts = [
        st.tuples(
            st.integers(0, 9).map(lambda k, cut=cut: k < cut),
            _valid(info.annotation, list(info.metadata), fname, hints, depth),
        )
        for cut, (fname, info) in zip(cuts, model.model_fields.items(), strict=True)
    ]

    def assemble(t: tuple[Any, ...]) -> dict[str, Any]:
        return {n: v for n, (present, v) in zip(names, t, strict=True) if present and v is not None}

    return st.tuples(*parts).map(assemble)


def _field_info(model: Any, path: list[Any]) -> tuple[Any, list[Any]]:
    """(annotation, constraints) of the value at ``path`` in a document of ``model`` (Any if unknown)."""
    ann: Any = model
    meta: list[Any] = []
    for part in path:
        ann, meta = _unwrap(ann, meta)
        if isinstance(part, str) and isinstance(ann, type) and issubclass(ann, BaseModel):
            info = ann.model_fields.get(part)
            if info is None:
                return Any, []
            ann, meta = info.annotation, list(info.metadata)
        elif typing.get_origin(ann) in (list, tuple, dict):
            args = typing.get_args(ann)
            ann, meta = (args[-1] if args else Any), []
        else:
            return Any, []
    return _unwrap(ann, meta)


def _bad_values(annotation: Any, metadata: list[Any]) -> list[Any]:
    """Out-of-range and wrong-type values for a field."""
    wrong: list[Any] = ["", "ten", "never", True, [], {}, [1, "a"], "x" * 3000, "\x00", "ü😀"]
    if annotation in (int, float):
        lo, hi = _bounds(metadata)
        edges = [x for x in (lo, hi) if x is not None]
        near = [x - 1 for x in edges] + [x + 1 for x in edges] + [x * 1.000001 + 1e-9 for x in edges]
        specials = [math.nan, math.inf, -math.inf] * 3
        return [*near, *edges, -1, 0, 1e-300, 1e308, 2**63, 10**400, *specials, *wrong]
    if annotation is bool:
        return ["yes", 1, 0, "true", *wrong]
    return [1, -1.5, math.nan, *wrong]


def _leaves(node: Any, path: list[Any]) -> list[tuple[Any, Any, list[Any]]]:
    """(container, key, path) of every value in a nested dict/list document."""
    if isinstance(node, dict):
        items: Any = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return []
    out: list[tuple[Any, Any, list[Any]]] = []
    for k, v in items:
        out.append((node, k, [*path, k]))
        out.extend(_leaves(v, [*path, k]))
    return out


def _corrupt(doc: dict[str, Any], model: type[BaseModel], seed: int, n: int) -> dict[str, Any]:
    """``doc`` with ``n`` random faults: a value out of range or of another type, a key removed, an
    unknown key added (all chosen by a ``random.Random(seed)``)."""
    import copy
    import random

    rng = random.Random(seed)
    doc = copy.deepcopy(doc)
    for _ in range(n):
        leaves = _leaves(doc, [])
        op = rng.choice(["value", "value", "value", "drop", "unknown"])
        if not leaves or op == "unknown":
            target = rng.choice([doc] + [c for c, _, _ in leaves if isinstance(c, dict)])
            target[rng.choice(["unknown_key", "Name", "seeds", "x y"])] = rng.choice([1, "a", True, [1]])
            continue
        container, key, path = rng.choice(leaves)
        if op == "drop":
            del container[key]
        else:
            container[key] = rng.choice(_bad_values(*_field_info(model, path)))
    return doc


def model_documents(model: type[BaseModel], hints: Hints) -> st.SearchStrategy[dict[str, Any]]:
    """Documents for ``model`` built from its fields with values inside their bounds, then 0-3 faults
    (out-of-range or wrong-type values, dropped keys, unknown keys): some load, the rest fail in a few
    known places."""
    return st.builds(
        _corrupt,
        _model_strategy(model, hints),
        st.just(model),
        st.integers(0, 2**32 - 1),
        st.sampled_from([0, 0, 1, 1, 2, 3]),
    )


# ---------------------------------------------------------------------------------------------- sanity

#: ``Params`` times that may be infinite ("never"; no observed attack script)
MAY_BE_INFINITE = frozenset({"lockdown_t", "fire_alarm_t", "script_end_t", "location_info_s"})
#: ``Params`` arrays that hold NaN / inf by design (fixed arrival / entry times of a counterfactual)
ARRAYS_MAY_BE_INFINITE = frozenset({"unit_arrival_t", "unit_entry_t", "script_t"})


def assert_scenario_sane(sc: Any) -> None:
    """A loaded scenario compiled to usable ``Params``: finite numbers, people, a connected building."""
    import numpy as np

    p = sc.params
    for name, value in vars(p).items():
        if isinstance(value, float) and name not in MAY_BE_INFINITE:
            assert math.isfinite(value), f"Params.{name} = {value}"
        if isinstance(value, np.ndarray) and value.dtype.kind == "f" and name not in ARRAYS_MAY_BE_INFINITE:
            assert np.isfinite(value).all(), f"Params.{name} has non-finite values"
    assert p.dt > 0 and p.horizon_s > 0
    assert p.n_occupants > 0 and (p.group_size > 0).all()
    assert np.isfinite(sc.building.dist).all()
    assert len(sc.building.exits) >= 1
    assert sc.spec.replications >= 1 and 0 <= sc.spec.seed < 2**63


def write_input(path: Path, data: bytes) -> Path:
    """Write one fuzz input (bytes, as they are) to ``path``."""
    path.write_bytes(data)
    return path


def decoded(data: bytes) -> str | None:
    """The text of an input if it is UTF-8 (None otherwise)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
