"""The import error: ``file: entity: what is wrong`` (an ``InputError``, exit code 2 on the command line)."""

from __future__ import annotations

from responsesim.errors import InputError


class BuildingImportError(InputError):
    """A floor plan that cannot be imported.

    ``file``: the plan as given; ``field``: the entity at fault (``#17468 IfcDoor 'Innentuer-1'``,
    ``features[4]``, ``layer DOOR-1, handle 2F``), or the part of the plan (``spaces``, ``exits``) when no
    single entity is; ``message``: what is wrong, in plain words.
    """
