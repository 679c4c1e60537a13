"""User-facing scenario errors: ``file:line: field.path: message``.

``locate_toml_line`` maps a pydantic error location (``("responders", "patrol", "first_median_s")``) to
the line of a TOML text where that value is written. It runs a small, lenient TOML tokenizer (strings,
comments, brackets, dotted keys, inline tables, arrays, arrays of tables) that records where each key
and array element starts; it converts no values, so it never has to agree with ``tomllib`` on them.
"""

from __future__ import annotations

import contextlib
import difflib
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from responsesim.errors import InputError

Loc = tuple[str | int, ...]

__all__ = [
    "ScenarioError",
    "format_loc",
    "from_toml_decode_error",
    "from_validation_error",
    "locate_toml_line",
    "plain_error",
]


class ScenarioError(InputError):
    """A scenario that cannot be parsed or validated.

    ``file``: the scenario path as given (or None); ``field``: dotted path such as
    ``responders.patrol.first_median_s`` or ``building.spaces[1].id`` (None for the whole file);
    ``line``: 1-based line in the file (None if unknown); ``message``: what is wrong.
    """


def format_loc(loc: Sequence[str | int]) -> str | None:
    """``("building", "spaces", 1, "id")`` -> ``"building.spaces[1].id"``; ``()`` -> None."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or None


# ---------------------------------------------------------------------------------------------- tokenizer


@dataclass(frozen=True)
class _Tok:
    kind: str  # "nl" "[" "]" "{" "}" "=" "." "," "str" "bare"
    text: str  # for "str": the decoded string; for "bare": the raw run of characters
    line: int  # 1-based line where the token starts


_PUNCT = "[]{}=.,"
_BARE_STOP = set(" \t\r\n#\"'") | set(_PUNCT)


def _decode_basic(raw: str) -> str:
    """Decode a TOML basic string literal (with quotes) using tomllib; fall back to the raw content."""
    try:
        value = tomllib.loads(f"k = {raw}")["k"]
    except tomllib.TOMLDecodeError:
        return raw.strip('"')
    return value if isinstance(value, str) else raw.strip('"')


def _tokenize(text: str) -> list[_Tok]:
    """Tokens of a TOML text; comments are dropped, every line break outside strings is an "nl" token."""
    toks: list[_Tok] = []
    i, line, n = 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            toks.append(_Tok("nl", "\n", line))
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in _PUNCT:
            toks.append(_Tok(c, c, line))
            i += 1
        elif text.startswith('"""', i) or text.startswith("'''", i):
            quote = text[i : i + 3]
            j = i + 3
            while True:
                k = text.find(quote, j)
                if k < 0:
                    k = n
                    break
                if quote == '"""':  # skip an escaped quote: count the backslashes before it
                    b = k
                    while b > j and text[b - 1] == "\\":
                        b -= 1
                    if (k - b) % 2 == 1:
                        j = k + 1
                        continue
                break
            end = k + 3
            while end < n and text[end] == quote[0]:  # up to two extra quotes belong to the content
                end += 1
            toks.append(_Tok("str", text[i + 3 : end - 3], line))
            line += text.count("\n", i, min(end, n))
            i = min(end, n)
        elif c == '"':
            j = i + 1
            while j < n and text[j] not in '"\n':
                j += 2 if text[j] == "\\" else 1
            j = min(j, n)
            toks.append(_Tok("str", _decode_basic(text[i : j + 1]), line))
            i = j + 1 if j < n and text[j] == '"' else j
        elif c == "'":
            j = i + 1
            while j < n and text[j] not in "'\n":
                j += 1
            toks.append(_Tok("str", text[i + 1 : j], line))
            i = j + 1 if j < n and text[j] == "'" else j
        else:
            j = i
            while j < n and text[j] not in _BARE_STOP:
                j += 1
            toks.append(_Tok("bare", text[i:j], line))
            i = j
    return toks


# ---------------------------------------------------------------------------------------------- parser


class _Locator:
    """Walks the tokens and records the first line of every key path and array element."""

    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.pos = 0
        self.explicit: dict[Loc, int] = {}  # written: "key = ...", "[table]", array element
        self.implicit: dict[Loc, int] = {}  # implied: "a" by "a.b = 1" or "[a.b]"
        self.aot_index: dict[Loc, int] = {}  # array-of-tables path -> index of its last element

    # -- token helpers
    def peek(self, ahead: int = 0) -> _Tok | None:
        k = self.pos + ahead
        return self.toks[k] if k < len(self.toks) else None

    def kind(self, ahead: int = 0) -> str | None:
        t = self.peek(ahead)
        return t.kind if t is not None else None

    def skip_line(self) -> None:
        while self.kind() not in (None, "nl"):
            self.pos += 1

    def skip_nl(self) -> None:
        while self.kind() == "nl":
            self.pos += 1

    # -- recording
    def mark(self, path: Loc, line: int) -> None:
        self.explicit.setdefault(path, line)
        for k in range(1, len(path)):
            self.implicit.setdefault(path[:k], line)

    def line_of(self, path: Loc) -> int | None:
        if path in self.explicit:
            return self.explicit[path]
        return self.implicit.get(path)

    # -- grammar
    def key(self) -> list[str] | None:
        """A (dotted) key; None if the tokens do not form one."""
        parts: list[str] = []
        while True:
            t = self.peek()
            if t is None or t.kind not in ("str", "bare"):
                return None
            parts.append(t.text)
            self.pos += 1
            if self.kind() != ".":
                return parts
            self.pos += 1

    def resolve(self, parts: list[str]) -> Loc:
        """A header key with the index of the current element of every enclosing array of tables."""
        path: Loc = ()
        for k, part in enumerate(parts):
            path = (*path, part)
            if k < len(parts) - 1 and path in self.aot_index:
                path = (*path, self.aot_index[path])
        return path

    def value(self, path: Loc) -> None:
        """Skip one value, recording the keys of inline tables and the elements of arrays under ``path``."""
        t = self.peek()
        if t is None:
            return
        if t.kind == "{":
            self.pos += 1
            while True:
                self.skip_nl()
                if self.kind() in (None, "}"):
                    self.pos += 1
                    return
                if self.kind() == ",":
                    self.pos += 1
                    continue
                start = self.peek()
                parts = self.key()
                if parts is None or self.kind() != "=" or start is None:
                    self.pos += 1
                    continue
                self.pos += 1
                self.mark((*path, *parts), start.line)
                self.value((*path, *parts))
        elif t.kind == "[":
            self.pos += 1
            index = 0
            while True:
                self.skip_nl()
                first = self.peek()
                if first is None or first.kind == "]":
                    self.pos += 1
                    return
                if first.kind == ",":
                    self.pos += 1
                    continue
                self.mark((*path, index), first.line)
                self.value((*path, index))
                index += 1
        elif t.kind in ("]", "}", ",", "nl"):
            return
        else:  # a scalar: a string, or a run of bare words and dots (1.5, 1979-05-27 07:32:00)
            self.pos += 1
            if t.kind == "str":
                return
            while self.kind() in ("bare", "."):
                self.pos += 1

    def header(self) -> Loc | None:
        """``[a.b]`` or ``[[a.b]]`` at the current position; returns the table path (None if malformed)."""
        start = self.peek()
        assert start is not None
        aot = self.kind(1) == "["
        self.pos += 2 if aot else 1
        parts = self.key()
        if parts is None:
            self.skip_line()
            return None
        path = self.resolve(parts)
        if aot:
            index = self.aot_index.get(path, -1) + 1
            self.aot_index[path] = index
            path = (*path, index)
        self.mark(path, start.line)
        self.skip_line()
        return path

    def run(self) -> None:
        table: Loc = ()
        while self.peek() is not None:
            self.skip_nl()
            t = self.peek()
            if t is None:
                return
            if t.kind == "[":
                got = self.header()
                if got is not None:
                    table = got
                continue
            parts = self.key()
            if parts is None or self.kind() != "=":
                self.skip_line()
                continue
            self.pos += 1
            path = (*table, *parts)
            self.mark(path, t.line)
            self.value(path)
            self.skip_line()


def locate_toml_line(text: str, loc: Sequence[str | int]) -> int | None:
    """1-based line of ``text`` where the value at pydantic location ``loc`` is written.

    Keys are found in ``[table]``/``[table.sub]`` sections, as dotted keys and inside inline tables;
    integers in ``loc`` index arrays of tables (``[[building.spaces]]``) and arrays. A location that is
    not written (a missing key, a type tag that pydantic appends to union errors) falls back to its
    nearest enclosing key or table; ``None`` if there is none (the root).
    """
    loc = tuple(loc)
    finder = _Locator(_tokenize(text))
    with contextlib.suppress(IndexError, RecursionError):  # malformed text: use what was recorded
        finder.run()
    while loc:
        line = finder.line_of(loc)
        if line is not None:
            return line
        loc = loc[:-1]
    return None


# ---------------------------------------------------------------------------------------------- converters


def _num(x: Any) -> str:
    """A bound as people write it: 10,000,000 not 10000000; 0.5 not 0.5000."""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


#: pydantic error type -> a plain-language message (``ctx`` values filled in)
_PLAIN: dict[str, str] = {
    "missing": "this key is required and missing",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text (in quotes)",
    "list_type": "must be a list [ ... ]",
    "dict_type": "must be a table",
    "model_type": "must be a table",
    "too_short": "needs at least {min_length} item(s)",
    "too_long": "takes at most {max_length} item(s)",
    "literal_error": "must be one of {expected}",
    "enum": "must be one of {expected}",
}


def _message(err: Any) -> str:
    """A plain-language message for one pydantic error dict (never pydantic's own phrasing when a plain
    one is known)."""
    kind = err.get("type")
    ctx = {k: _num(v) for k, v in (err.get("ctx") or {}).items()}
    if kind == "extra_forbidden":
        return f"unknown key {str(err['loc'][-1])!r} (not a setting here; check the spelling)"
    template = _PLAIN.get(str(kind))
    if template is not None:
        try:
            return template.format(**ctx)
        except (KeyError, IndexError):
            pass
    return str(err.get("msg", "invalid value")).removeprefix("Value error, ")


def known_keys(model: Any, parent: Loc) -> list[str]:
    """The keys a pydantic model accepts at ``parent`` (a location inside it), [] when unknown."""
    import typing

    from pydantic import BaseModel

    current: Any = model
    for part in parent:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        ann: Any = fields[part].annotation
        options = [ann, *typing.get_args(ann)]
        inner = [a for o in options for a in typing.get_args(o)]
        found = [o for o in (*options, *inner) if isinstance(o, type) and issubclass(o, BaseModel)]
        if not found:
            return []
        current = found[0]
    fields = getattr(current, "model_fields", None)
    return list(fields) if fields else []


def plain_error(errors: list[Any], model: Any = None) -> tuple[Loc, str]:
    """The error to show first and its message, from pydantic's list: an unknown key that looks like a
    missing required one at the same place is shown as "did you mean ...?"; then the first error. With
    several problems the message says how many more there are."""
    missing = [e for e in errors if e.get("type") == "missing"]
    extra = [e for e in errors if e.get("type") == "extra_forbidden"]
    chosen, message = errors[0], _message(errors[0])
    for e in extra:
        parent, key = tuple(e["loc"][:-1]), str(e["loc"][-1])
        names = [str(m["loc"][-1]) for m in missing if tuple(m["loc"][:-1]) == parent]
        close = difflib.get_close_matches(key, names, n=1, cutoff=0.6)
        if not close and model is not None:
            close = difflib.get_close_matches(key, known_keys(model, parent), n=1, cutoff=0.6)
        if close:
            chosen, message = e, f"unknown key {key!r}: did you mean {close[0]!r}?"
            break
    else:
        if extra and chosen.get("type") == "missing":
            chosen, message = extra[0], _message(extra[0])
    more = len(errors) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return tuple(chosen["loc"]), message


def from_validation_error(
    exc: ValidationError, file: str | None, text: str | None, model: Any = None
) -> ScenarioError:
    """The most useful error of ``exc`` (``plain_error``; ``model``, the validated pydantic class, lets an
    unknown key be matched against the keys it accepts) as a ``ScenarioError``; the line is looked up in
    ``text`` (TOML) if given."""
    errors = exc.errors()
    if not errors:
        return ScenarioError(str(exc), file=file)
    loc, message = plain_error(list(errors), model)
    line = locate_toml_line(text, loc) if text is not None else None
    return ScenarioError(message, file=file, field=format_loc(loc), line=line)


_TOML_POS = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_END = re.compile(r"\s*\(at end of document\)\s*$")


def last_line(text: str) -> int:
    """1-based number of the last line of ``text`` that is not blank (1 for a blank text)."""
    return max(1, len(text.rstrip().split("\n")))


def from_toml_decode_error(
    exc: tomllib.TOMLDecodeError, file: str | None, source_text: str | None = None
) -> ScenarioError:
    """A TOML syntax error as a ``ScenarioError``; the line is read from ``(at line L, column C)``.

    An error "at end of document" (an unclosed table header, string or array) is given the last
    non-blank line of ``source_text`` when the text is passed."""
    text = str(exc)
    line: int | None = getattr(exc, "lineno", None)  # Python >= 3.14 has it; 3.11 does not
    col: int | None = getattr(exc, "colno", None)
    m = _TOML_POS.search(text)
    if m:
        line = line if line is not None else int(m.group(1))
        col = col if col is not None else int(m.group(2))
        text = text[: m.start()]
    elif (e := _TOML_END.search(text)) is not None:
        text = text[: e.start()] + " at the end of the file"
        if line is None and source_text is not None:
            line = last_line(source_text)
            col = None
    message = f"TOML syntax error: {text}"
    if col is not None:
        message += f" (column {col})"
    return ScenarioError(message, file=file, line=line)
