"""The first page of a PDF plan drawn as a PNG, for the editor's backdrop (``POST /api/buildings/pdf-page``).

PDFium (``pypdfium2``) reads the file and draws its first page so that the longer side is
``LONG_SIDE_PX`` pixels (at most ``MAX_SCALE`` pixels a point: a small page is not blown up without end).
The editor uses the picture exactly like an uploaded PNG: its pixels are the plan's units, and the scale
comes from a length the user knows.

- ``render_first_page(data)``: in this process. Bad input is a ``PdfPageError`` with an HTTP status and a
  plain-language message: 400 for a file that is not a readable PDF (not a PDF at all, damaged or cut
  short, protected by a password, no pages), 422 for a readable PDF whose first page this server will not
  draw (a side under ``MIN_SIDE_PT`` or over ``MAX_SIDE_PT``, the PDF format's own limit).
- ``render_isolated(data)``: the same in a child process (``python -m responsesim.web.pdfpage``) with a
  time limit (``TIMEOUT_S``, then the child is killed) and an address-space limit (``MEMORY_BYTES``);
  a page over either is a 422. The server uses this one: a PDF of a kilobyte can hold a page that takes
  minutes and gigabytes to draw (hundreds of thousands of strokes packed in a compressed stream), PDFium
  cannot be interrupted from Python, and it is not thread-safe.

The file is read from memory and never written to disk; nothing is kept after the answer.
"""

from __future__ import annotations

import io
import json
import logging
import math
import subprocess
import sys
import traceback
from dataclasses import dataclass

__all__ = [
    "LONG_SIDE_PX",
    "MAX_SIDE_PT",
    "MEMORY_BYTES",
    "MIN_SIDE_PT",
    "TIMEOUT_S",
    "PdfPage",
    "PdfPageError",
    "check_header",
    "render_first_page",
    "render_isolated",
]

LONG_SIDE_PX = 2000
"""The longer side of the drawn page, in pixels."""
MAX_SCALE = 10.0
"""At most this many pixels a point (720 dpi): a page smaller than 200 pt is drawn smaller than 2000 px."""
MIN_SIDE_PT = 3.0
MAX_SIDE_PT = 14_400.0
"""The page sides a PDF may have (PDF 1.7, Annex C: 3 to 14,400 units, 200 inches)."""
TIMEOUT_S = 20.0
"""The child process gets this long to start, read the file and draw the page, then it is killed."""
MEMORY_BYTES = 1024 * 1024 * 1024
"""The child's address-space limit (``RLIMIT_AS``; Python and PDFium take about 100 MB of it)."""

_log = logging.getLogger(__name__)

_NOT_PDF = {  # how other files start, to say what the file is instead
    b"\x89PNG": "a PNG image (pick it as it is: images need no conversion)",
    b"\xff\xd8\xff": "a JPEG image (pick it as it is: images need no conversion)",
    b"PK\x03\x04": "a ZIP archive (an Office document or a zipped folder?)",
    b"GIF8": "a GIF image",
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
    b"AC10": "a DWG drawing (export it from the CAD program as PDF, or import a DXF with `responsesim "
    "building import`)",
    b"\xd0\xcf\x11\xe0": "an old Office document",
}
_EXPORT = "export the plan's page as a PNG or JPEG and pick that instead"


class PdfPageError(Exception):
    """A PDF the server does not draw: ``status`` (400, 422) and a message for the user."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class PdfPage:
    """The first page as a PNG: its pixels, the document's page count and the page's size in points."""

    png: bytes
    pages: int
    width_pt: float
    height_pt: float
    width_px: int
    height_px: int


def _pt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 10 else f"{v:.2g}"


def check_header(data: bytes) -> None:
    """A 400 for an empty file or one that is plainly not a PDF (no ``%PDF-`` in its first kilobyte,
    where readers look for it), naming what it looks like instead."""
    if not data:
        raise PdfPageError(400, "the file is empty: pick the PDF of the plan")
    if b"%PDF-" in data[:1024]:
        return
    what = next((name for magic, name in _NOT_PDF.items() if data.startswith(magic)), None)
    if what is None:
        raise PdfPageError(
            400, "this file is not a PDF (it does not start with %PDF-): pick a PDF, PNG or JPEG"
        )
    raise PdfPageError(400, f"this file is not a PDF: it is {what}")


def _check_size(w: float, h: float) -> None:
    finite = math.isfinite(w) and math.isfinite(h)
    if finite and min(w, h) >= MIN_SIDE_PT and max(w, h) <= MAX_SIDE_PT:
        return
    size = f"{_pt(w)} × {_pt(h)} pt" if finite else "of no valid size"
    raise PdfPageError(
        422,
        f"the first page is {size}: a page must be {MIN_SIDE_PT:g} to {MAX_SIDE_PT:,.0f} points "
        f"(200 inches) on each side; {_EXPORT}",
    )


def render_first_page(data: bytes, long_side_px: int = LONG_SIDE_PX) -> PdfPage:
    """The first page of the PDF ``data`` as a PNG whose longer side is ``long_side_px`` (fewer for a
    page under ``long_side_px / MAX_SCALE`` points); ``PdfPageError`` for a file this does not draw."""
    check_header(data)
    import pypdfium2 as pdfium  # only the child process and the tests draw pages
    import pypdfium2.raw as pdfium_c

    # PDFium's own loader, not PdfDocument(data): that one calls a document with no page a load failure
    # and reports whatever error code an earlier call left behind
    raw = pdfium_c.FPDF_LoadMemDocument64(data, len(data), None)
    if not raw:
        code = pdfium_c.FPDF_GetLastError()
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            why = (
                "this PDF is protected by a password, and the page cannot read protected files: open it, "
                f"save or print it as a PDF without the password (or {_EXPORT})"
            )
        elif code == pdfium_c.FPDF_ERR_SECURITY:
            why = f"this PDF is encrypted in a way the page cannot read: {_EXPORT}"
        else:
            why = (
                "this PDF is damaged or incomplete (cut short in the upload?) and cannot be read: "
                f"open it in a PDF viewer to check, or {_EXPORT}"
            )
        raise PdfPageError(400, why)
    doc = pdfium.PdfDocument(raw)  # closes ``raw``; ``data`` stays referenced until then
    try:
        pages = len(doc)
        if pages < 1:
            raise PdfPageError(400, "this PDF has no pages: pick the PDF with the plan on it")
        try:
            page = doc[0]
        except pdfium.PdfiumError as exc:
            raise PdfPageError(
                400, f"the first page of this PDF is damaged and cannot be read: {_EXPORT}"
            ) from exc
        try:
            w, h = (float(v) for v in page.get_size())
            _check_size(w, h)
            scale = min(long_side_px / max(w, h), MAX_SCALE)
            bitmap = page.render(scale=scale, may_draw_forms=False, draw_annots=True)
            try:
                image = bitmap.to_pil()
                out = io.BytesIO()
                image.save(out, format="PNG")
                width_px, height_px = image.size
            finally:
                bitmap.close()
        finally:
            page.close()
    finally:
        doc.close()
    return PdfPage(out.getvalue(), pages, w, h, width_px, height_px)


def render_isolated(
    data: bytes, *, timeout_s: float = TIMEOUT_S, memory_bytes: int = MEMORY_BYTES
) -> PdfPage:
    """``render_first_page`` in a child process killed after ``timeout_s`` and limited to
    ``memory_bytes`` of address space; either limit reached is a ``PdfPageError`` 422."""
    check_header(data)  # plain junk is refused without starting a process
    cmd = [sys.executable, "-m", "responsesim.web.pdfpage", str(int(memory_bytes))]
    too_much = (
        f"the first page of this PDF is too complex to draw here (it needs more than {timeout_s:g} s or "
        f"{memory_bytes / 1024**2:,.0f} MB): {_EXPORT}"
    )
    try:
        proc = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:  # subprocess.run has killed the child
        raise PdfPageError(422, too_much) from exc
    except OSError as exc:
        raise PdfPageError(500, f"the PDF renderer could not be started ({exc.strerror or exc})") from exc
    head, _, png = proc.stdout.partition(b"\n")
    try:
        info = json.loads(head) if head else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        info = {}
    if proc.returncode == 0 and isinstance(info, dict) and "pages" in info:
        return PdfPage(
            png,
            int(info["pages"]),
            float(info["width_pt"]),
            float(info["height_pt"]),
            int(info["width_px"]),
            int(info["height_px"]),
        )
    tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
    if isinstance(info, dict) and isinstance(info.get("error"), str):
        if proc.returncode != 3:  # not one of the refusals of render_first_page
            _log.warning("the PDF renderer failed (exit %s): %s", proc.returncode, tail[0][:300])
        raise PdfPageError(int(info.get("status", 422)), info["error"])
    _log.warning("the PDF renderer stopped (exit %s): %s", proc.returncode, tail[0][:300])
    raise PdfPageError(422, too_much)


def _child(argv: list[str]) -> int:
    """The child process: the PDF on standard input; a JSON line (the page's facts, or ``status`` and
    ``error``) then the PNG on standard output."""
    import resource  # POSIX only, and only here

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a child stopped by the memory limit leaves no core
    if argv:
        limit = int(argv[0])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    data = sys.stdin.buffer.read()
    out = sys.stdout.buffer
    try:
        page = render_first_page(data)
    except PdfPageError as exc:
        out.write(json.dumps({"status": exc.status, "error": exc.message}).encode() + b"\n")
        return 3
    except MemoryError:
        return 4  # the parent says: too complex
    except Exception as exc:  # a fault of this code or PDFium's: a message for the user, the trace in the log
        traceback.print_exc()
        why = f"the first page of this PDF could not be drawn ({type(exc).__name__}): {_EXPORT}"
        out.write(json.dumps({"status": 422, "error": why}).encode() + b"\n")
        return 5
    info = {
        "pages": page.pages,
        "width_pt": page.width_pt,
        "height_pt": page.height_pt,
        "width_px": page.width_px,
        "height_px": page.height_px,
    }
    out.write(json.dumps(info).encode() + b"\n" + page.png)
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
