"""Uploads cannot exhaust the server: XLSX read within limits that trust none of the file's declared sizes or
dimensions (bombs built here, small on disk), parsing before the write transaction, and every request body
capped as it arrives — chunked or not — in front of every route, checked against a real uvicorn."""

from __future__ import annotations

import contextlib
import io
import socket
import sqlite3
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import TODAY
from tests.helpers import bearer, login, penalty
from tests.served import served
from xinyong.app import create_app
from xinyong.config import Settings
from xinyong.kit import tabular
from xinyong.kit.errors import BadRequest, PayloadTooLarge
from xinyong.kit.tabular import Limits, read_rows
from xinyong.platform import Platform
from xinyong.records.models import Batch
from xinyong.web.deps import get_today

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
        'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"'
        '/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType='
        '"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship Id="rId1" '
        f'Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{OFFICE}"><sheets>'
        '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship Id="rId1" '
        f'Type="{OFFICE}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
        f'Type="{OFFICE}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ),
}


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def xlsx(
    rows: str, *, dimension: str = "A1:B2", shared: tuple[str, ...] = ("名称",), padding: int = 0
) -> bytes:
    """A minimal XLSX built by hand: the sheet's XML as given (its `dimension` whatever it claims), and
    `padding` bytes of whitespace inside the sheet, which compress to almost nothing (a bomb)."""
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><dimension ref="{dimension}"/>'
        f"<sheetData>{rows}{' ' * padding}</sheetData></worksheet>"
    )
    strings = "".join(f"<si><t>{s}</t></si>" for s in shared)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, text in PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{strings}</sst>')
    return buffer.getvalue()


HEADER = '<row r="1"><c r="A1" t="s"><v>0</v></c>' + inline("B1", "金额") + "</row>"


def body_rows(count: int, start: int = 2) -> str:
    return "".join(
        f'<row r="{n}">{inline(f"A{n}", f"甲{n}公司")}<c r="B{n}"><v>{n}</v></c></row>'
        for n in range(start, start + count)
    )


def rows_of(data: bytes, limits: Limits = tabular.LIMITS) -> list[tabular.Row]:
    return list(read_rows(io.BytesIO(data), "f.xlsx", limits))


class TestXlsxLimits:
    def test_a_well_formed_file_reads(self) -> None:
        rows = rows_of(xlsx(HEADER + body_rows(3)))
        assert [(r.number, r.values) for r in rows] == [
            (n, {"名称": f"甲{n}公司", "金额": n}) for n in (2, 3, 4)
        ]

    def test_a_zip_bomb_is_refused_from_its_central_directory(self) -> None:
        bomb = xlsx(HEADER + body_rows(1), padding=64 << 20)  # 64 MiB of sheet in well under 1 MiB
        assert len(bomb) < 1 << 20
        with pytest.raises(PayloadTooLarge) as refused:
            rows_of(bomb)
        assert refused.value.code == "file.xlsx_ratio" and "压缩炸弹" in refused.value.message

    def test_entry_and_total_sizes_are_limited(self) -> None:
        data = xlsx(HEADER + body_rows(50))
        with pytest.raises(PayloadTooLarge) as entry:
            rows_of(data, Limits(entry_bytes=2_000))
        assert entry.value.code == "file.xlsx_uncompressed"
        with pytest.raises(PayloadTooLarge) as total:
            rows_of(data, Limits(uncompressed_bytes=5_000))
        assert total.value.code == "file.xlsx_uncompressed"

    def test_shared_strings_are_limited(self) -> None:
        data = xlsx(HEADER + body_rows(1), shared=("名称", *(f"字符串{n}" for n in range(500))))
        with pytest.raises(PayloadTooLarge) as refused:
            rows_of(data, Limits(shared_strings_bytes=4_000))
        assert refused.value.code == "file.xlsx_shared_strings"

    def test_every_read_is_counted_whatever_the_directory_declared(self) -> None:
        data = xlsx(HEADER + body_rows(200))
        archive = tabular._GuardedZip(io.BytesIO(data), tabular.LIMITS)
        archive.limits = Limits(entry_bytes=4_000)  # as if the directory had declared a smaller size

        def read_all() -> None:
            with archive.open("xl/worksheets/sheet1.xml") as entry:
                while entry.read(1024):
                    pass

        with pytest.raises(tabular._LimitExceeded):
            read_all()
        assert 4_000 < archive.decompressed <= 4_000 + 1024

    def test_an_understated_size_in_the_directory_is_a_clear_error(self) -> None:
        data = bytearray(xlsx(HEADER + body_rows(20)))
        directory = data.rfind(b"PK\x01\x02")  # the last central directory entry: the shared strings
        directory = data.rfind(b"PK\x01\x02", 0, directory)  # the one before it: the sheet
        data[directory + 24 : directory + 28] = (100).to_bytes(4, "little")  # its uncompressed size
        with pytest.raises(BadRequest) as refused:
            rows_of(bytes(data))
        assert refused.value.code == "file.xlsx"

    def test_the_declared_dimension_is_not_trusted(self) -> None:
        huge = xlsx(HEADER + body_rows(2), dimension="A1:XFD1048576")
        started = time.perf_counter()
        assert [r.values for r in rows_of(huge)] == [
            {"名称": "甲2公司", "金额": 2},
            {"名称": "甲3公司", "金额": 3},
        ]
        assert time.perf_counter() - started < 2
        far = xlsx(HEADER + '<row r="2"><c r="XFD2"><v>1</v></c></row>', dimension="A1:B2")
        with pytest.raises(PayloadTooLarge) as wide:
            rows_of(far)
        assert wide.value.code == "file.too_many_columns"

    def test_rows_and_cells_are_limited(self) -> None:
        data = xlsx(HEADER + body_rows(30))
        with pytest.raises(PayloadTooLarge) as rows:
            rows_of(data, Limits(rows=20))
        assert rows.value.code == "file.too_many_rows"
        with pytest.raises(PayloadTooLarge) as cells:
            rows_of(data, Limits(cells=40))
        assert cells.value.code == "file.too_many_cells"
        late = xlsx(HEADER + '<row r="2000000"><c r="A2000000"><v>1</v></c></row>')
        with pytest.raises(PayloadTooLarge):
            rows_of(late)

    def test_a_nul_character_reference_is_a_clear_error(self) -> None:
        data = xlsx(HEADER + f'<row r="2">{inline("A2", "甲&#0;公司")}</row>')
        with pytest.raises(BadRequest) as refused:
            rows_of(data)
        assert refused.value.code == "file.xlsx"

    def test_csv_rows_and_columns_are_limited(self) -> None:
        wide = ("a," * 600 + "b\r\n1\r\n").encode()
        with pytest.raises(PayloadTooLarge) as columns:
            list(read_rows(io.BytesIO(wide), "f.csv"))
        assert columns.value.code == "file.too_many_columns"
        long = ("a,b\r\n" + "1,2\r\n" * 30).encode()
        with pytest.raises(PayloadTooLarge) as rows:
            list(read_rows(io.BytesIO(long), "f.csv", Limits(rows=10)))
        assert rows.value.code == "file.too_many_rows"


class TestConsoleUpload:
    def test_a_bomb_upload_is_refused_with_its_code_and_nothing_is_stored(
        self, client: TestClient, session: Session
    ) -> None:
        token = login(client, session, role="provider")
        batches = len(session.scalars(select(Batch)).all())
        response = client.post(
            "/console/ingest",
            data={"item": "CF", "provider": "SCMR", "csrf_token": token},
            files={"file": ("bomb.xlsx", xlsx(HEADER + body_rows(1), padding=64 << 20), "application/zip")},
        )
        assert response.status_code == 413 and "file.xlsx_ratio" in response.text
        malformed = client.post(
            "/console/ingest",
            data={"item": "CF", "provider": "SCMR", "csrf_token": token},
            files={"file": ("nul.xlsx", xlsx(HEADER + f'<row r="2">{inline("A2", "&#0;")}</row>'), "x")},
        )
        assert malformed.status_code == 400 and "file.xlsx" in malformed.text  # not a 500
        assert len(session.scalars(select(Batch)).all()) == batches


def test_spooled_rows_come_back_as_read() -> None:
    """Rows kept in the temporary file come back equal and in order: every row shares its header strings, and
    empty cells come and go (a reader out of step with the writer gave one row's strings to another)."""
    headers = ["名称", "代码", "备注", "金额", "日期", "证件类型", "证件号码"]
    lines = [",".join(headers)]
    for n in range(2, 300):
        cells = [f"甲{n}公司", f"C{n}", "" if n % 3 else "注", str(n), "", "身份证" if n % 2 else "", ""]
        lines.append(",".join(cells))
    data = "\r\n".join(lines).encode()
    direct = list(read_rows(io.BytesIO(data), "f.csv"))
    assert list(tabular.spool_rows(read_rows(io.BytesIO(data), "f.csv"))) == direct
    assert direct[0].values == {
        "名称": "甲2公司",
        "代码": "C2",
        "备注": "",
        "金额": "2",
        "日期": "",
        "证件类型": "",
        "证件号码": "",
    }


def test_an_upload_is_parsed_before_the_write_lock_is_taken(
    file_platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the file is read, another writer can still take SQLite's write lock at once."""
    from xinyong.records import views

    database = file_platform.settings.data_dir / "xinyong.db"
    could_write: list[bool] = []

    def reading(stream: Any, filename: str) -> Iterator[tabular.Row]:
        for row in read_rows(stream, filename):
            other = sqlite3.connect(database, timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                could_write.append(True)
            except sqlite3.OperationalError:
                could_write.append(False)
            finally:
                other.close()
            yield row

    monkeypatch.setattr(views, "read_rows", reading)
    app = create_app(platform=file_platform)
    app.dependency_overrides[get_today] = lambda: TODAY
    with TestClient(app) as client, file_platform.sessions() as session:
        token = login(client, session, role="provider")
        rows = [penalty() for _ in range(3)]
        lines = [",".join(rows[0])] + [",".join(str(v) for v in r.values()) for r in rows]
        response = client.post(
            "/console/ingest",
            data={"item": "CF", "provider": "SCMR", "csrf_token": token},
            files={"file": ("p.csv", "\r\n".join(lines).encode(), "text/csv")},
            follow_redirects=False,
        )
    assert response.status_code == 303, response.text
    assert could_write == [True, True, True]


# --- the body cap, against a real server ----------------------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[int]:
    """`xinyong serve`'s uvicorn configuration on a free port, bodies capped at 1 MB (uploads 2 MB)."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'xinyong.db'}",
        secret_key="test-secret-key",
        max_body_mb=1,
        max_upload_mb=2,
        scheduler=False,
    )
    with served(settings) as (port, _platform):
        yield port


PART = b'--b\r\nContent-Disposition: form-data; name="evidence"; filename="a.pdf"\r\nContent-Type: application/pdf\r\n\r\n'


def send_chunked(port: int, path: str, content_type: str | None, total: int) -> tuple[bytes, int]:
    """POST `total` bytes in 64 KiB chunks without a length, stopping as soon as an answer arrives; the
    answer's first bytes and how many body bytes were sent by then."""
    chunk = b"x" * (64 << 10)
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        head = f"POST {path} HTTP/1.1\r\nHost: test\r\nTransfer-Encoding: chunked\r\n"
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        conn.sendall((head + "\r\n").encode())
        if content_type and content_type.startswith("multipart/"):  # a file part that never ends
            conn.sendall(f"{len(PART):x}\r\n".encode() + PART + b"\r\n")
        conn.setblocking(False)
        started = time.monotonic()
        answer = b""
        while sent < total and time.monotonic() - started < 20:
            try:
                answer = conn.recv(4096)
                if answer:
                    break
            except BlockingIOError:
                pass
            try:
                conn.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                sent += len(chunk)
            except BlockingIOError:
                time.sleep(0.001)
            except (BrokenPipeError, ConnectionResetError):
                break
        conn.setblocking(True)
        if not answer:
            with contextlib.suppress(OSError):
                conn.sendall(b"0\r\n\r\n")
        with contextlib.suppress(OSError):  # the rest of the answer, until the server closes
            while more := conn.recv(65536):
                answer += more
    return answer, sent


class TestBodyCap:
    @pytest.mark.parametrize(
        ("path", "content_type"),
        [
            ("/api/v1/checks", "application/json"),  # read whole by the guard, within its limit
            ("/login", "application/x-www-form-urlencoded"),
            ("/api/v1/records", None),  # streamed to the app, counted as it goes
            ("/objections", "multipart/form-data; boundary=b"),  # an anonymous upload: the upload limit
        ],
    )
    def test_a_huge_chunked_anonymous_post_is_cut_off_at_the_limit(
        self, server: int, path: str, content_type: str | None
    ) -> None:
        started = time.monotonic()
        answer, sent = send_chunked(server, path, content_type, 600 << 20)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert b"payload_too_large" in answer or b"file.too_large" in answer
        # Refused at the limit: what was sent is the limit plus what the sockets' buffers hold, not 600 MB.
        assert sent < 64 << 20
        assert time.monotonic() - started < 20

    def test_a_declared_length_over_the_limit_is_refused_before_reading(self, server: int) -> None:
        with socket.create_connection(("127.0.0.1", server), timeout=10) as conn:
            conn.sendall(
                b"POST /api/v1/checks HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                b"Content-Length: 5000000\r\n\r\n{"
            )
            assert conn.recv(4096).startswith(b"HTTP/1.1 413")

    def test_bodies_within_the_limit_still_work(self, client: TestClient, session: Session) -> None:
        rows = [penalty() for _ in range(50)]
        response = client.post(
            "/api/v1/records", json={"item": "CF", "records": rows}, headers=bearer(session, "SCMR")
        )
        assert response.status_code == 200 and response.json()["accepted"] == 50
