"""Loading the reference files: typed columns on the real data; file:line:column errors on bad CSVs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from responsesim.calibrate import reference
from responsesim.calibrate.reference import (
    INCIDENT_COLUMNS,
    ReferenceDataError,
    load_incidents,
    load_narratives,
    load_published_stats,
    reference_dir,
)

HEADER = ",".join(INCIDENT_COLUMNS)
GOOD = (
    '2000-2018,"Edgewater Technology, Inc.",26-Dec-00,11:15 AM,Massachusetts,Commerce,MALE,42,1,1,1,7,0,7,'
    "Shooter completed goal and stopped,Arrested,YES"
)
GOOD2 = (
    "2000-2018,Amko Trading Store,9-Jan-01,12:00 PM,Texas,Commerce,MALE,54,0,0,2,4,0,4,"
    "Suicide when police arrived,Suicide,NO"
)


def write(tmp_path: Path, *lines: str, name: str = "incidents.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def with_field(line: str, column: str, value: str) -> str:
    """GOOD2 (no quoted commas) with one field replaced."""
    fields = line.split(",")
    fields[INCIDENT_COLUMNS.index(column)] = value
    return ",".join(fields)


def test_small_good_file(tmp_path: Path) -> None:
    df = load_incidents(write(tmp_path, HEADER, GOOD, with_field(GOOD2, "Rifles", "")))
    assert len(df) == 2
    assert df.loc[0, "date"] == pd.Timestamp("2000-12-26")
    assert df["year"].tolist() == [2000, 2001]
    assert df.loc[0, "incident_name"] == "Edgewater Technology, Inc."
    assert df["deaths"].tolist() == [7, 4]
    assert str(df["rifles"].dtype) == "Int64"
    assert df["rifles"].isna().tolist() == [False, True]  # blank weapon count = unknown, not an error


@pytest.mark.parametrize(
    ("column", "value", "problem"),
    [
        ("Date", "31-Foo-01", "not a date"),
        ("Date", "2001-01-09", "not a date"),
        ("Deaths", "-1", "negative"),
        ("Wounded", "two", "not an integer"),
        ("Wounded", "", "not an integer"),
        ("Handguns", "1.5", "not an integer"),
        ("Total(Calculated)", "5", "differs from Deaths + Wounded"),
        ("Location", "Parking lot", "not one of"),
        ("TerminatingEvent", " ", "empty"),
    ],
)
def test_bad_value_names_file_line_and_column(tmp_path: Path, column: str, value: str, problem: str) -> None:
    path = write(tmp_path, HEADER, GOOD, GOOD2, with_field(GOOD2, column, value))
    with pytest.raises(ReferenceDataError) as info:
        load_incidents(path)
    err = info.value
    assert err.path == path and err.line == 4 and err.column == column  # header = line 1, 3rd data row
    msg = str(err)
    assert f"{path}:4" in msg and repr(column) in msg and problem in msg and repr(value) in msg


def test_line_number_counts_physical_lines_of_quoted_newlines(tmp_path: Path) -> None:
    multi = GOOD.replace('"Edgewater Technology, Inc."', '"Edgewater\nTechnology, Inc."')
    path = write(tmp_path, HEADER, multi, with_field(GOOD2, "Deaths", "-3"))
    with pytest.raises(ReferenceDataError, match=r":4: column 'Deaths'"):
        load_incidents(path)


def test_missing_column(tmp_path: Path) -> None:
    cols = [c for c in INCIDENT_COLUMNS if c != "Wounded"]
    idx = INCIDENT_COLUMNS.index("Wounded")
    row = GOOD2.split(",")
    del row[idx]
    path = write(tmp_path, ",".join(cols), ",".join(row))
    with pytest.raises(ReferenceDataError, match=r":1: missing column\(s\) \['Wounded'\]") as info:
        load_incidents(path)
    assert info.value.column == "Wounded"


def test_wrong_field_count_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match=r":3: wrong number of fields"):
        load_incidents(write(tmp_path, HEADER, GOOD, GOOD2 + ",extra"))
    with pytest.raises(ReferenceDataError, match="no data rows"):
        load_incidents(write(tmp_path, HEADER, name="empty.csv"))
    with pytest.raises(ReferenceDataError, match="file not found"):
        load_incidents(tmp_path / "nope.csv")


def test_narratives_bad_rows(tmp_path: Path) -> None:
    header = "DataSourceId,IncidentName,LocationType,IncidentDesc"
    ok = '2019,SunTrust Bank,Commerce,"On January 23, 2019, ... The shooter surrendered."'
    df = load_narratives(write(tmp_path, header, ok, name="n.csv"))
    assert df.columns.tolist() == ["source_id", "incident_name", "location", "narrative"]
    with pytest.raises(ReferenceDataError, match=r"n2\.csv:3: column 'IncidentDesc': empty"):
        load_narratives(write(tmp_path, header, ok, '2019,X,Commerce,""', name="n2.csv"))
    with pytest.raises(ReferenceDataError, match=r"missing column\(s\) \['LocationType'\]"):
        load_narratives(write(tmp_path, "DataSourceId,IncidentName,IncidentDesc", "2019,X,y", name="n3.csv"))


def test_published_stats_errors(tmp_path: Path) -> None:
    bad = tmp_path / "stats.toml"
    bad.write_text("[fbi\nincidents = ", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="invalid TOML"):
        load_published_stats(bad)
    with pytest.raises(ReferenceDataError, match="file not found"):
        load_published_stats(tmp_path / "missing.toml")


def test_reference_dir_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(reference.ENV_VAR, str(tmp_path))
    assert reference_dir() == tmp_path
    monkeypatch.setenv(reference.ENV_VAR, str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match=r"RESPONSESIM_REFERENCE.*absent"):
        reference_dir()


def test_reference_dir_missing_says_where_it_looked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(reference.ENV_VAR, raising=False)
    monkeypatch.setattr(reference, "PACKAGED_DIR", tmp_path / "gone")
    with pytest.raises(FileNotFoundError) as info:
        reference_dir()
    msg = str(info.value)
    assert str(tmp_path / "gone") in msg and reference.ENV_VAR in msg


def test_reference_data_ships_inside_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the override the package's own copy is used: it lies under the installed package, not
    beside the repo, and holds every file the calibration and the review read, with its sources."""
    import responsesim

    monkeypatch.delenv(reference.ENV_VAR, raising=False)
    path = reference_dir()
    assert path.is_relative_to(Path(responsesim.__file__).resolve().parent)
    for f in (reference.INCIDENTS_FILE, reference.NARRATIVES_FILE, reference.STATS_FILE):
        assert (path / f).is_file(), f
    assert (path / "timelines" / "parkland_2018.csv").is_file()
    readme = (path / "README.md").read_text()
    assert "source and licence" in readme and "incidents_2000_2019.csv" in readme
    assert len(load_incidents()) > 300


def test_real_incidents(incidents: pd.DataFrame) -> None:
    assert len(incidents) == 333
    assert incidents["year"].between(2000, 2019).all()
    assert (incidents[["deaths", "wounded"]] >= 0).all().all()
    assert incidents.loc[0, "date"] == pd.Timestamp("2000-12-26")
    assert incidents["rifles"].isna().sum() == 3  # three incidents with unknown weapons
    # the FBI 2000-2013 study counted 160 incidents; the 2000-2019 report added 22 more for those years
    old = incidents[incidents["year"] <= 2013]
    assert (old["source_id"] == "2000-2018").sum() == 160


def test_real_narratives_align(incidents: pd.DataFrame, narratives: pd.DataFrame) -> None:
    assert len(narratives) == len(incidents)
    assert (narratives["incident_name"].to_numpy() == incidents["incident_name"].to_numpy()).all()
    assert (narratives["location"].to_numpy() == incidents["location"].to_numpy()).all()


def test_real_published_stats(reference_path: Path) -> None:
    stats = load_published_stats(reference_path / reference.STATS_FILE)
    fbi = stats["fbi_2000_2013"]
    assert fbi["incidents"] == 160 and fbi["duration_known"] == 64 and fbi["law_enforcement_engaged"] == 45
    assert all("source" in section for section in stats.values())
