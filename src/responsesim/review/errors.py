"""The one error type of the review: ``file:line: field: message``."""

from __future__ import annotations

from responsesim.errors import InputError

__all__ = ["ReviewInputError"]


class ReviewInputError(InputError):
    """A timeline, protocol or vocabulary file that cannot be used.

    ``file``: the path as given; ``line``: 1-based line (None if unknown); ``field``: the CSV column or the
    dotted TOML key (None for the whole file); ``message``: what is wrong.
    """

    def __init__(self, file: str | None, line: int | None, field: str | None, message: str) -> None:
        super().__init__(message, file=file, field=field, line=line)
