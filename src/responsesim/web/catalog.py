"""Built-in scenarios offered by the page: the default, plus the project's ``examples/*.toml`` (from the
source checkout, or the copy an installed package carries in ``responsesim/data/examples``).

Scenario text sent by the page is loaded from text only: a ``[building] file`` (a path on the server) is
refused for uploads, so an upload can never make the server read one of its files.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from responsesim.scenario.errors import ScenarioError, locate_toml_line
from responsesim.scenario.load import Scenario, build, default_scenario_text, load_scenario, parse_text
from responsesim.web.errors import ApiError, from_input_error

__all__ = ["EXAMPLES_DIR", "PACKAGED_EXAMPLES", "Catalog", "CatalogEntry", "load_upload"]

_CHECKOUT_EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
#: in a checkout ``data/examples`` is a link to ``examples/``; an installed package holds a copy there
PACKAGED_EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples"
EXAMPLES_DIR = _CHECKOUT_EXAMPLES if _CHECKOUT_EXAMPLES.is_dir() else PACKAGED_EXAMPLES
SCENARIO_ID = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    name: str
    description: str
    path: Path | None  # None: the built-in default


def _header(text: str) -> tuple[str, str]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return "", ""
    return str(data.get("name", "")), str(data.get("description", ""))


class Catalog:
    """The scenarios listed by ``GET /api/scenarios`` (read once at start-up)."""

    def __init__(self, examples_dir: Path | None = EXAMPLES_DIR) -> None:
        name, desc = _header(default_scenario_text())
        self.entries: dict[str, CatalogEntry] = {"default": CatalogEntry("default", name, desc, None)}
        if examples_dir is not None and examples_dir.is_dir():
            for path in sorted(examples_dir.glob("*.toml")):
                if not SCENARIO_ID.match(path.stem) or path.stem in self.entries:
                    continue
                try:
                    name, desc = _header(path.read_text(encoding="utf-8"))
                except (OSError, UnicodeDecodeError):
                    continue
                self.entries[path.stem] = CatalogEntry(path.stem, name or path.stem, desc, path)

    def list(self) -> list[dict[str, str]]:
        return [{"id": e.id, "name": e.name, "description": e.description} for e in self.entries.values()]

    def load(self, scenario_id: str, missing_status: int = 404) -> Scenario:
        """The scenario with that id; ``missing_status`` if unknown, 400 if the example file is broken."""
        entry = self.entries.get(scenario_id) if SCENARIO_ID.match(scenario_id) else None
        if entry is None:
            raise ApiError(
                missing_status,
                f"no built-in scenario {scenario_id[:80]!r} (known: {', '.join(self.entries)})",
                field="scenario_id",
            )
        try:
            return load_scenario(entry.path)
        except ScenarioError as exc:
            raise from_input_error(exc) from exc


def load_upload(text: str, filename: str) -> Scenario:
    """A scenario from uploaded TOML text; 400 naming ``filename``, line and field when it is bad.

    The spec is validated first and a ``building.file`` refused before the building is built, so no
    server path is ever opened on behalf of an upload."""
    if not isinstance(text, str):
        raise ApiError(400, "toml must be a string", field="toml")
    try:
        spec = parse_text(text, filename)
        if spec.building.file is not None:
            raise ScenarioError(
                "building files are not read from the web page (they would be paths on the server); "
                "use a building template, or run the file with `responsesim run`",
                file=filename,
                field="building.file",
                line=locate_toml_line(text, ("building", "file")),
            )
        return build(spec, filename, text)
    except ScenarioError as exc:
        raise from_input_error(exc) from exc
