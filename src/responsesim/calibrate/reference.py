"""Locate and load the reference data that ships inside the package (``responsesim/data/reference``).

Files (see ``data/reference/README.md`` for their sources and licences):

- ``fbi-active-shooter/incidents_2000_2019.csv``: one row per incident of the FBI active-shooter reports
  2000-2019 (333 rows; multi-shooter incidents have ``&``-joined per-shooter fields);
- ``fbi-active-shooter/narratives_2000_2019.csv``: the FBI narrative paragraph of each incident, same order;
- ``published_stats.toml``: published aggregate statistics with their denominators and sources.

The directory is ``$RESPONSESIM_REFERENCE`` if set (to check the model against another copy of the data),
else the package's own copy, so an installed package or a clone with nothing beside it can calibrate and
check itself.
"""

from __future__ import annotations

import csv
import os
import tomllib
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

ENV_VAR = "RESPONSESIM_REFERENCE"
INCIDENTS_FILE = Path("fbi-active-shooter") / "incidents_2000_2019.csv"
NARRATIVES_FILE = Path("fbi-active-shooter") / "narratives_2000_2019.csv"
STATS_FILE = Path("published_stats.toml")

#: Location types used by the FBI reports (``Location`` / ``LocationType`` columns).
LOCATION_TYPES = (
    "Commerce",
    "Education",
    "Government",
    "Health Care",
    "House of Worship",
    "Open Space",
    "Residence",
    "Other",
)

INCIDENT_COLUMNS = (
    "DataSourceId",
    "IncidentName",
    "Date",
    "Time",
    "State",
    "Location",
    "ShooterGender",
    "ShooterAge",
    "Rifles",
    "Shotguns",
    "Handguns",
    "Deaths",
    "Wounded",
    "Total(Calculated)",
    "TerminatingEvent",
    "ShooterFate",
    "SurrenderedDuringIncident",
)
NARRATIVE_COLUMNS = ("DataSourceId", "IncidentName", "LocationType", "IncidentDesc")


class ReferenceDataError(ValueError):
    """A reference file is missing, malformed, or holds a bad value (``path``, ``line``, ``column`` set)."""

    def __init__(self, message: str, path: Path, line: int | None = None, column: str | None = None):
        where = str(path) if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
        self.column = column


#: The package's own copy of the reference data (sources and licence in its README.md).
PACKAGED_DIR = Path(__file__).resolve().parent.parent / "data" / "reference"


def reference_dir() -> Path:
    """The reference directory: ``$RESPONSESIM_REFERENCE`` if set, else the package's own copy.

    Raises ``FileNotFoundError`` saying where it looked and how to override it.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        path = Path(env).expanduser()
        if not path.is_dir():
            raise FileNotFoundError(
                f"reference data not found: ${ENV_VAR} is set to {path}, which is not a directory"
            )
        return path
    if not PACKAGED_DIR.is_dir():
        raise FileNotFoundError(
            f"reference data not found: looked in {PACKAGED_DIR} (the package's own copy; the installation "
            f"is incomplete: reinstall responsesim), or set ${ENV_VAR} to a reference directory"
        )
    return PACKAGED_DIR


def _rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield (file line number where the record starts, row) after checking the header."""
    if not path.is_file():
        raise ReferenceDataError("file not found", path)
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            raise ReferenceDataError(
                f"missing column(s) {missing}; header is {header}", path, line=1, column=missing[0]
            )
        start = reader.line_num + 1
        for row in reader:
            if None in row or any(v is None for v in row.values()):
                raise ReferenceDataError(f"wrong number of fields (header has {len(header)})", path, start)
            yield start, row
            start = reader.line_num + 1


class _Row:
    """Field parsers that raise ``ReferenceDataError`` naming file, line and column."""

    def __init__(self, path: Path, line: int, row: dict[str, str]):
        self.path, self.line, self.row = path, line, row

    def fail(self, column: str, problem: str) -> ReferenceDataError:
        value = self.row.get(column)
        msg = f"column {column!r}: {problem} (value {value!r})"
        return ReferenceDataError(msg, self.path, self.line, column)

    def text(self, column: str, required: bool = True) -> str:
        value = " ".join(self.row[column].split())
        if required and not value:
            raise self.fail(column, "empty")
        return value

    def count(self, column: str, required: bool = True) -> int | None:
        raw = self.row[column].strip()
        if not raw and not required:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise self.fail(column, "not an integer") from None
        if value < 0:
            raise self.fail(column, "negative")
        return value

    def day(self, column: str) -> date:
        try:
            return datetime.strptime(self.row[column].strip(), "%d-%b-%y").date()
        except ValueError:
            raise self.fail(column, "not a date like 26-Dec-00") from None

    def choice(self, column: str, allowed: tuple[str, ...]) -> str:
        value = self.text(column)
        if value not in allowed:
            raise self.fail(column, f"not one of {list(allowed)}")
        return value


def _load(path: Path, required: tuple[str, ...], parse: Callable[[_Row], dict[str, Any]]) -> pd.DataFrame:
    records = [parse(_Row(path, line, row)) for line, row in _rows(path, required)]
    if not records:
        raise ReferenceDataError("no data rows", path)
    return pd.DataFrame.from_records(records)


def _incident(r: _Row) -> dict[str, Any]:
    deaths, wounded = r.count("Deaths"), r.count("Wounded")
    total = r.count("Total(Calculated)")
    assert deaths is not None and wounded is not None
    if total != deaths + wounded:
        raise r.fail("Total(Calculated)", f"differs from Deaths + Wounded = {deaths + wounded}")
    fate = r.text("ShooterFate")
    return {
        "source_id": r.text("DataSourceId"),
        "incident_name": r.text("IncidentName"),
        "date": r.day("Date"),
        "time": r.text("Time", required=False),
        "state": r.text("State", required=False),
        "location": r.choice("Location", LOCATION_TYPES),
        "shooter_gender": r.text("ShooterGender", required=False),
        "shooter_age": r.text("ShooterAge", required=False),
        "n_shooters": len(fate.split("&")),
        "rifles": r.count("Rifles", required=False),
        "shotguns": r.count("Shotguns", required=False),
        "handguns": r.count("Handguns", required=False),
        "deaths": deaths,
        "wounded": wounded,
        "terminating_event": r.text("TerminatingEvent"),
        "shooter_fate": fate,
        "surrendered": r.text("SurrenderedDuringIncident", required=False),
    }


def load_incidents(path: Path | str | None = None) -> pd.DataFrame:
    """The FBI incident table 2000-2019 with typed columns, one row per incident, in file order.

    Columns: ``source_id``, ``incident_name`` (whitespace-normalised), ``date`` (datetime64; ``26-Dec-00`` is
    2000-12-26), ``year`` (int), ``time`` (raw text, may be empty), ``state``, ``location`` (one of
    ``LOCATION_TYPES``), ``shooter_gender``/``shooter_age`` (raw text, ``&``-joined for several shooters),
    ``n_shooters`` (from ``ShooterFate``), ``rifles``/``shotguns``/``handguns`` (``Int64``, NA when blank),
    ``deaths``/``wounded`` (int >= 0, shooters excluded, FBI definition), ``terminating_event``,
    ``shooter_fate``, ``surrendered`` (raw text). ``Total(Calculated)`` is checked to equal deaths + wounded.

    Raises ``ReferenceDataError`` naming the file, line number (header = line 1) and column of a bad value.
    """
    p = Path(path) if path is not None else reference_dir() / INCIDENTS_FILE
    df = _load(p, INCIDENT_COLUMNS, _incident)
    df["date"] = pd.to_datetime(df["date"])
    df["year"] = df["date"].dt.year.astype("int64")
    for col in ("rifles", "shotguns", "handguns"):
        df[col] = df[col].astype("Int64")
    for col in ("deaths", "wounded", "n_shooters"):
        df[col] = df[col].astype("int64")
    return df


def _narrative(r: _Row) -> dict[str, Any]:
    return {
        "source_id": r.text("DataSourceId"),
        "incident_name": r.text("IncidentName"),
        "location": r.choice("LocationType", LOCATION_TYPES),
        "narrative": r.text("IncidentDesc"),
    }


def load_narratives(path: Path | str | None = None) -> pd.DataFrame:
    """The FBI narrative of each incident: ``source_id``, ``incident_name``, ``location``, ``narrative``.

    Rows are in the same order as the incident table; join on (``source_id``, ``incident_name``).
    Raises ``ReferenceDataError`` (file, line, column) on a missing column or empty/unknown value.
    """
    p = Path(path) if path is not None else reference_dir() / NARRATIVES_FILE
    return _load(p, NARRATIVE_COLUMNS, _narrative)


def load_published_stats(path: Path | str | None = None) -> dict[str, Any]:
    """``published_stats.toml`` as a dict of sections (each with a ``source`` string).

    Raises ``ReferenceDataError`` naming the file if it is missing or not valid TOML.
    """
    p = Path(path) if path is not None else reference_dir() / STATS_FILE
    if not p.is_file():
        raise ReferenceDataError("file not found", p)
    try:
        with p.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ReferenceDataError(f"invalid TOML: {exc}", p) from None
