"""The first page of a PDF plan as the editor's backdrop (issue 17 item 2; ``responsesim.web.pdfpage`` and
``POST /api/buildings/pdf-page``): PDFs made here (matplotlib's PDF backend for a drawn plan, hand-written
files for the broken, encrypted, empty, huge and hostile ones) are drawn as PNGs with the page count and
size, or refused with a clear message and the right status, never a traceback or a hang.

``plan_pdf`` and ``PLAN_PT`` are also used by the browser test (``test_editor_browser.py``).
"""

from __future__ import annotations

import hashlib
import io
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pypdfium2 as pdfium
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.backends.backend_pdf import PdfPages
from PIL import Image

from responsesim.web.app import create_app
from responsesim.web.pdfpage import PdfPage, PdfPageError, render_first_page, render_isolated
from responsesim.web.settings import WebSettings

Pt = tuple[float, float]

# the plan on page 1, in points from the top left (y down, as the page's pixels): a hall 400 x 60 pt with
# a 400 pt scale bar under it; page 2 has only a filled square where page 1 is blank
PAGE_PT = (460.0, 300.0)
PLAN_PT: dict[str, list[Pt]] = {
    "room": [(30, 30), (230, 30), (230, 190), (30, 190)],
    "hall": [(30, 190), (430, 190), (430, 250), (30, 250)],
    "scale_bar": [(30, 275), (430, 275)],
}
PAGE2_SQUARE = (330.0, 110.0)  # inside page 1's blank right-hand room area
K = 2000 / PAGE_PT[0]  # pixels a point of the drawn page


def plan_pdf(pages: int = 2) -> bytes:
    """A PDF whose first page is a small floor plan (walls, names, a scale bar), drawn with matplotlib."""
    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        for n in range(pages):
            fig = plt.figure(figsize=(PAGE_PT[0] / 72, PAGE_PT[1] / 72))
            ax = fig.add_axes((0, 0, 1, 1))
            ax.set_xlim(0, PAGE_PT[0])
            ax.set_ylim(PAGE_PT[1], 0)
            ax.axis("off")
            if n == 0:
                for key in ("room", "hall"):
                    pts = [*PLAN_PT[key], PLAN_PT[key][0]]
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], color="black", lw=3)
                ax.plot(*zip(*PLAN_PT["scale_bar"], strict=True), color="black", lw=2)
                ax.text(100, 110, "Class 101", fontsize=10)
                ax.text(200, 225, "HALL", fontsize=10)
                ax.text(215, 290, "20 m", fontsize=8)
            else:
                x, y = PAGE2_SQUARE
                ax.fill([x - 20, x + 20, x + 20, x - 20], [y - 20, y - 20, y + 20, y + 20], color="black")
            pdf.savefig(fig)
            plt.close(fig)
    return buf.getvalue()


PLAN_1 = plan_pdf(1)


def build_pdf(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF file of ``objects`` (numbered from 1; object 1 the catalog) with a correct cross-reference."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        trailer,
        xref,
    )
    return bytes(out)


def one_page_pdf(
    content: bytes, box: tuple[float, float] = PAGE_PT, compress: bool = False, rotate: int = 0
) -> bytes:
    """One page of ``box`` points (turned by ``rotate`` degrees in a viewer) drawing the content stream
    ``content`` (Flate-compressed if asked)."""
    stream = zlib.compress(content, 9) if compress else content
    filt = b" /Filter /FlateDecode" if compress else b""
    return build_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Rotate %d /Contents 4 0 R >>" % (*box, rotate),
        b"<< /Length %d%s >>\nstream\n" % (len(stream), filt) + stream + b"\nendstream",
    ])  # fmt: skip


_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def _rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    i = j = 0
    out = bytearray()
    for b in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(b ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def encrypted_pdf(user_password: bytes = b"secret", owner_password: bytes = b"owner") -> bytes:
    """A one-page PDF encrypted with the standard security handler (RC4, 40 bits, revision 2; PDF 1.7
    section 7.6.3, algorithms 2-4) that needs ``user_password`` to open."""

    def pad(password: bytes) -> bytes:
        return (password + _PAD)[:32]

    owner = _rc4(hashlib.md5(pad(owner_password)).digest()[:5], pad(user_password))
    perms = struct.pack("<i", -4)
    file_id = b"responsesim-test"
    key = hashlib.md5(pad(user_password) + owner + perms + file_id).digest()[:5]
    user = _rc4(key, _PAD)
    content = b"0 0 0 RG 5 w 30 30 200 160 re S"
    obj_key = hashlib.md5(key + (4).to_bytes(3, "little") + (0).to_bytes(2, "little")).digest()[:10]
    stream = _rc4(obj_key, content)
    return build_pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 460 300] /Contents 4 0 R >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
            b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>"
            % (owner.hex().encode(), user.hex().encode()),
        ],
        b"/Encrypt 5 0 R /ID [<%s> <%s>] " % (file_id.hex().encode(), file_id.hex().encode()),
    )


def slow_pdf(lines: int) -> bytes:
    """A kilobyte-sized PDF whose page strokes the same diagonal ``lines`` times (seconds to draw for
    tens of thousands, hundreds of megabytes to parse for millions)."""
    return one_page_pdf(b"0 0 m 460 300 l S\n" * lines, compress=True)


def grey(page: PdfPage, p: Pt) -> int:
    """The grey level (0 black, 255 white) of the drawn page at the point ``p`` (points, y down)."""
    img = Image.open(io.BytesIO(page.png)).convert("L")
    return int(img.getpixel((round(p[0] * K), round(p[1] * K))))  # type: ignore[arg-type]


def refused(data: bytes, status: int) -> str:
    with pytest.raises(PdfPageError) as info:
        render_first_page(data)
    assert info.value.status == status, info.value.message
    assert "Traceback" not in info.value.message
    return info.value.message


# ---------------------------------------------------------------------------------------------- rendering


def test_the_first_page_of_a_two_page_plan() -> None:
    page = render_first_page(plan_pdf(2))
    assert page.pages == 2
    assert (page.width_pt, page.height_pt) == PAGE_PT
    assert (page.width_px, page.height_px) == (2000, 1305)  # the longer side 2000 px, the other rounded up
    img = Image.open(io.BytesIO(page.png))
    assert img.format == "PNG" and img.size == (2000, 1305)
    assert grey(page, (130, 30)) < 100  # the room's top wall
    assert grey(page, (430, 220)) < 100  # the hall's east wall
    assert grey(page, (230, 275)) < 100  # the scale bar
    assert grey(page, (130, 150)) > 240  # inside the room: blank
    assert grey(page, PAGE2_SQUARE) > 240  # page 2's square is not drawn: this is page 1


def test_page_sizes_scale_to_2000_px_and_no_more_than_10_px_a_point() -> None:
    a4 = render_first_page(one_page_pdf(b"", box=(595.28, 841.89)))
    assert (a4.width_px, a4.height_px) == (1415, 2000) and a4.pages == 1
    big = render_first_page(one_page_pdf(b"", box=(14_400, 7_200)))  # the largest page a PDF may have
    assert (big.width_px, big.height_px) == (2000, 1000)
    small = render_first_page(one_page_pdf(b"", box=(100, 50)))  # 10 px a point, not 20
    assert (small.width_px, small.height_px) == (1000, 500)
    rotated = render_first_page(one_page_pdf(b"", box=PAGE_PT, rotate=90))  # as a viewer shows it
    assert (rotated.width_pt, rotated.height_pt) == (300, 460)
    assert (rotated.width_px, rotated.height_px) == (1305, 2000)


def test_files_that_are_not_pdfs_say_what_they_are() -> None:
    assert "empty" in refused(b"", 400)
    png = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(png, format="PNG")
    assert "it is a PNG image" in refused(png.getvalue(), 400)
    assert "JPEG image" in refused(b"\xff\xd8\xff\xe0" + b"\0" * 100, 400)
    assert "ZIP archive" in refused(b"PK\x03\x04" + b"\0" * 100, 400)
    msg = refused(b"<html>not a plan</html>", 400)
    assert msg.startswith("this file is not a PDF (it does not start with %PDF-)"), msg


def test_damaged_and_truncated_pdfs() -> None:
    whole = plan_pdf(2)
    for cut in (len(whole) // 2, len(whole) - 40, 200):
        msg = refused(whole[:cut], 400)
        assert msg.startswith("this PDF is damaged or incomplete"), (cut, msg)
    assert "damaged or incomplete" in refused(b"%PDF-1.4\n%%EOF\n", 400)
    garbled = bytearray(whole)
    garbled[9:] = bytes(b ^ 0x5A for b in garbled[9:])  # a PDF header, then noise
    assert "damaged or incomplete" in refused(bytes(garbled), 400)


def test_a_password_protected_pdf_is_refused_with_what_to_do() -> None:
    data = encrypted_pdf()
    # a real encrypted file: with the password PDFium opens it and finds the page
    with pdfium.PdfDocument(data, password="secret") as doc:
        assert tuple(doc[0].get_size()) == PAGE_PT
    msg = refused(data, 400)
    assert msg.startswith("this PDF is protected by a password"), msg
    assert "without the password" in msg


def test_a_pdf_with_no_pages() -> None:
    data = build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])
    assert refused(data, 400).startswith("this PDF has no pages")


@pytest.mark.parametrize(
    ("box", "shown"),
    [((200_000, 100), "200,000 × 100 pt"), ((1, 1), "1 × 1 pt"), ((2, 5_000), "2 × 5,000 pt")],
)
def test_pages_too_large_or_too_small_are_422(box: tuple[float, float], shown: str) -> None:
    msg = refused(one_page_pdf(b"", box=box), 422)
    assert msg.startswith(f"the first page is {shown}: a page must be 3 to 14,400 points"), msg


@settings(max_examples=60, deadline=10_000, derandomize=True, database=None)
@given(
    cuts=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 40), st.binary(max_size=12)), max_size=4),
    end=st.integers(9, 4000),
)
def test_mutated_pdfs_draw_or_are_refused(cuts: list[tuple[int, int, bytes]], end: int) -> None:
    """Bytes replaced, deleted and inserted anywhere, and the file cut short: a page or a clear refusal."""
    data = bytearray(PLAN_1)
    for at, drop, put in cuts:
        at %= len(data)
        data[at : at + drop] = put
    try:
        page = render_first_page(bytes(data[: max(end, 9)]))
    except PdfPageError as exc:
        assert exc.status in (400, 422) and exc.message[:1].islower(), exc.message
    else:
        assert page.pages >= 1 and max(page.width_px, page.height_px) <= 2000


# ---------------------------------------------------------------------------------------------- isolation


def test_the_child_process_draws_the_same_page() -> None:
    data = plan_pdf(2)
    here, there = render_first_page(data), render_isolated(data)
    assert there == here


def test_errors_come_back_from_the_child_unchanged() -> None:
    for data, status in ((encrypted_pdf(), 400), (one_page_pdf(b"", box=(200_000, 100)), 422)):
        with pytest.raises(PdfPageError) as info:
            render_isolated(data)
        assert info.value.status == status
        with pytest.raises(PdfPageError) as direct:
            render_first_page(data)
        assert info.value.message == direct.value.message


def test_a_page_too_slow_to_draw_is_stopped() -> None:
    data = slow_pdf(20_000)  # about 1 kB; seconds to draw at 2000 px
    assert len(data) < 2_000
    start = time.monotonic()
    with pytest.raises(PdfPageError) as info:
        render_isolated(data, timeout_s=0.8)
    assert time.monotonic() - start < 5
    assert info.value.status == 422
    assert info.value.message.startswith("the first page of this PDF is too complex to draw here")


def test_a_page_too_large_for_memory_is_stopped() -> None:
    data = slow_pdf(3_000_000)  # 130 kB that PDFium parses into gigabytes
    assert len(data) < 200_000
    start = time.monotonic()
    with pytest.raises(PdfPageError) as info:
        render_isolated(data, timeout_s=30, memory_bytes=300 * 1024**2)
    assert time.monotonic() - start < 25  # stopped by the memory limit, not the time limit
    assert info.value.status == 422 and "300 MB" in info.value.message


# ---------------------------------------------------------------------------------------------- the API


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pdf")


@pytest.fixture(scope="module")
def client(root: Path) -> Iterator[TestClient]:
    settings = WebSettings(store=root / "results.duckdb", data_dir=root / "data", max_upload_bytes=200_000)
    with TestClient(create_app(settings), base_url="http://127.0.0.1") as c:
        yield c


PDF = {"content-type": "application/pdf"}


def post(client: TestClient, data: bytes | Iterator[bytes], headers: dict[str, str] | None = None) -> Any:
    return client.post("/api/buildings/pdf-page", content=data, headers=PDF if headers is None else headers)


def api_error(resp: Any, status: int) -> str:
    assert resp.status_code == status, (resp.status_code, resp.text)
    body = resp.json()
    assert set(body) == {"error", "field", "line"} and body["error"], body
    return str(body["error"])


def test_the_api_answers_the_png_with_page_count_and_size(client: TestClient, root: Path) -> None:
    before = {p for p in root.rglob("*") if p.is_file()}
    resp = post(client, plan_pdf(2))
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"] == "image/png"
    assert resp.headers["x-pdf-pages"] == "2"
    assert (resp.headers["x-pdf-page-width-pt"], resp.headers["x-pdf-page-height-pt"]) == ("460.00", "300.00")
    assert resp.headers["cache-control"] == "no-store"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert Image.open(io.BytesIO(resp.content)).size == (2000, 1305)
    # the file is drawn in memory: nothing is written (the store may appear on first use)
    after = {p for p in root.rglob("*") if p.is_file() and "results.duckdb" not in p.name}
    assert after <= before


def test_the_api_wants_the_pdf_itself(client: TestClient) -> None:
    data = plan_pdf(1)
    for headers in ({}, {"content-type": "application/json"}, {"content-type": "image/png"}):
        msg = api_error(post(client, data, headers), 415)
        assert "send the PDF file itself as application/pdf" in msg
    files = {"file": ("plan.pdf", data, "application/pdf")}
    assert "multipart/form-data" in api_error(client.post("/api/buildings/pdf-page", files=files), 415)
    assert post(client, data, {"content-type": "Application/PDF; name=plan.pdf"}).status_code == 200


@pytest.mark.parametrize(
    ("data", "status", "start"),
    [
        (b"", 400, "the file is empty"),
        (b"GIF89a" + b"\0" * 20, 400, "this file is not a PDF: it is a GIF image"),
        (b"%PDF-1.4\n%%EOF\n", 400, "this PDF is damaged or incomplete"),
        (encrypted_pdf(), 400, "this PDF is protected by a password"),
        (one_page_pdf(b"", box=(20_000, 20_000)), 422, "the first page is 20,000 × 20,000 pt"),
    ],
    ids=["empty", "gif", "damaged", "password", "huge-page"],
)
def test_the_api_refuses_bad_pdfs_clearly(client: TestClient, data: bytes, status: int, start: str) -> None:
    resp = post(client, data)
    msg = api_error(resp, status)
    assert msg.startswith(start), msg
    assert resp.json()["field"] == "pdf"


def test_the_api_size_limit(client: TestClient) -> None:
    big = plan_pdf(1) + b"%" + b"x" * 200_000 + b"\n"
    assert "request body too large: the limit is 200000 bytes" in api_error(post(client, big), 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        yield plan_pdf(1)
        for _ in range(8):
            yield b"%" + b"x" * 65_536 + b"\n"

    api_error(post(client, chunks()), 413)


def test_the_api_keeps_other_sites_out(client: TestClient) -> None:
    data = plan_pdf(1)
    assert "evil.example.com" in api_error(post(client, data, {**PDF, "host": "evil.example.com"}), 421)
    for extra in (
        {"origin": "http://evil.example.com"},
        {"sec-fetch-site": "cross-site"},
        {"origin": "null"},
    ):
        assert "cross-site request refused" in api_error(post(client, data, {**PDF, **extra}), 403)
    same = {**PDF, "origin": "http://127.0.0.1", "sec-fetch-site": "same-origin"}
    assert post(client, data, same).status_code == 200
