"""The one error type of the review: ``file:line: field: message``."""

from __future__ import annotations

from pathlib import Path

from responsesim.errors import InputError, read_input_text

__all__ = ["ReviewInputError", "read_review_text"]


class ReviewInputError(InputError):
    """A timeline, protocol or vocabulary file that cannot be used.

    ``file``: the path as given; ``line``: 1-based line (None if unknown); ``field``: the CSV column or the
    dotted TOML key (None for the whole file); ``message``: what is wrong.
    """

    def __init__(self, file: str | None, line: int | None, field: str | None, message: str) -> None:
        super().__init__(message, file=file, field=field, line=line)


def read_review_text(path: Path, what: str, encoding: str = "utf-8") -> str:
    """The text of a timeline, protocol or vocabulary file, or ``ReviewInputError`` naming the file
    (``responsesim.errors.read_input_text``: unreadable, not UTF-8, NUL in the name)."""
    try:
        return read_input_text(Path(path), what, encoding=encoding)
    except InputError as exc:
        raise ReviewInputError(exc.file, None, None, exc.message) from exc.__cause__
