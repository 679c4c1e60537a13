"""The project stands alone: neither the code nor the tests read anything outside the repository.

The reference data ships inside the package (``src/responsesim/data/reference``); a clone with nothing
beside it must calibrate, check and test itself (issue 26 item 1).
"""

from __future__ import annotations

import re
from pathlib import Path

import responsesim
from responsesim.calibrate import reference

REPO = Path(__file__).resolve().parents[1]
# a path that climbs out of the repository to the shared folder, however it is spelled in code
OUTSIDE = re.compile(r"""(\.\./shared|["']shared["']|parent\s*/\s*["']shared)""")


def _python_files() -> list[Path]:
    files = [*(REPO / "src").rglob("*.py"), *(REPO / "tests").rglob("*.py"), *(REPO / "scripts").rglob("*")]
    return [f for f in files if f.is_file() and f != Path(__file__).resolve()]


def test_no_code_or_test_reaches_outside_the_repo() -> None:
    hits = []
    for f in _python_files():
        for n, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{f.relative_to(REPO)}:{n}: {line.strip()}")
    assert not hits, "\n".join(hits)


def test_the_package_holds_its_reference_data_with_sources() -> None:
    pkg = Path(responsesim.__file__).resolve().parent
    assert reference.PACKAGED_DIR.is_relative_to(pkg)
    readme = (reference.PACKAGED_DIR / "README.md").read_text()
    for name in (
        "incidents_2000_2019.csv",
        "narratives_2000_2019.csv",
        "published_stats.toml",
        "parkland_2018.csv",
        "protocol_sources.md",
    ):
        assert name in readme, name
        assert list(reference.PACKAGED_DIR.rglob(name)), name
    assert "Licence" in readme


def test_an_installed_package_carries_the_examples_the_page_serves() -> None:
    """``responsesim/data/examples`` (a link to ``examples/`` in a checkout, a copy in an installed wheel)
    holds every example scenario, and the page's catalog read from it offers the same scenarios as from the
    checkout."""
    from responsesim.web.catalog import PACKAGED_EXAMPLES, Catalog

    assert PACKAGED_EXAMPLES.is_dir()
    want = sorted(p.name for p in (REPO / "examples").glob("*.toml"))
    assert sorted(p.name for p in PACKAGED_EXAMPLES.glob("*.toml")) == want and want
    assert Catalog(PACKAGED_EXAMPLES).list() == Catalog(REPO / "examples").list()
