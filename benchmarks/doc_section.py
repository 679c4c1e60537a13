"""One benchmark's section of docs/benchmarks.md: written between its start and end markers (replacing an
earlier run's), or appended at the end of the page the first time."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"


def write_section(start: str, end: str, text: str, doc: Path = DOC) -> None:
    """Put ``text`` (which starts with ``start`` and ends with ``end``) into ``doc`` and say so."""
    page = doc.read_text()
    if start in page and end in page:
        i, j = page.index(start), page.index(end) + len(end)
        page = page[:i] + text.rstrip("\n") + page[j:]
    else:
        page = page.rstrip("\n") + "\n\n" + text
    doc.write_text(page)
    print(f"wrote {doc.relative_to(ROOT)}")
