"""The one error type of the review: ``file:line: field: message``."""

from __future__ import annotations

__all__ = ["ReviewInputError"]


class ReviewInputError(Exception):
    """A timeline, protocol or vocabulary file that cannot be used.

    ``file``: the path as given; ``line``: 1-based line (None if unknown); ``field``: the CSV column or the
    dotted TOML key (None for the whole file); ``message``: what is wrong.
    """

    def __init__(self, file: str | None, line: int | None, field: str | None, message: str) -> None:
        super().__init__(message)
        self.file = file
        self.line = line
        self.field = field
        self.message = message

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
            f"ReviewInputError(file={self.file!r}, line={self.line!r}, field={self.field!r}, "
            f"message={self.message!r})"
        )
