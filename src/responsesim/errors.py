"""The user-facing input error: ``file:line: field: message`` (the parts that are known)."""

from __future__ import annotations

from pathlib import Path


class InputError(Exception):
    """A user's file or argument that cannot be used; ``file``, ``field`` and ``line`` say where."""

    def __init__(
        self, message: str, *, file: str | None = None, field: str | None = None, line: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.field = field
        self.line = line

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file is not None:
            parts.append(self.file if self.line is None else f"{self.file}:{self.line}")
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.field is not None:
            parts.append(self.field)
        parts.append(self.message)
        return ": ".join(parts)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, file={self.file!r}, field={self.field!r}, "
            f"line={self.line!r})"
        )


def read_input_text(
    path: Path, what: str, error: type[InputError] = InputError, encoding: str = "utf-8"
) -> str:
    """The UTF-8 text of a user's file, or ``error`` naming the file (``what``: e.g. "scenario file";
    ``encoding`` "utf-8-sig" also drops a byte-order mark)."""
    try:
        return path.read_text(encoding=encoding)
    except OSError as exc:
        raise error(f"cannot read {what} ({exc.strerror})", file=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise error(f"{what} is not UTF-8 text", file=str(path)) from exc
    except ValueError as exc:  # a NUL character in the path ("embedded null byte")
        raise error(f"cannot read {what} (its name contains a NUL character)", file=repr(str(path))) from exc
