"""Streaming readers for department files (CSV in UTF-8/GBK/GB18030, XLSX) and safe CSV export."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from xinyong.kit.errors import BadRequest

SAMPLE_BYTES = 1 << 16
XLSX_MAGIC = b"PK\x03\x04"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


@dataclass(frozen=True, slots=True)
class Row:
    number: int  # the row number a person sees in the file (header is row 1)
    values: dict[str, Any]


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM) if the sample decodes as such, otherwise GB18030 (a superset of GBK)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


def read_rows(stream: IO[bytes], filename: str = "") -> Iterator[Row]:
    """Yield the data rows of a CSV or XLSX file one at a time; memory stays flat for any size."""
    head = stream.read(SAMPLE_BYTES)
    if head.startswith(XLSX_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm")):
        rest = stream.read()
        yield from _read_xlsx(io.BytesIO(head + rest))
        return
    encoding = detect_encoding(head)
    text = io.TextIOWrapper(
        io.BufferedReader(_Prepend(head, stream)), encoding=encoding, errors="strict", newline=""
    )
    try:
        yield from _read_csv(text)
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"文件编码无法识别（应为 UTF-8 或 GBK/GB18030）：{exc.reason}", code="file.encoding"
        ) from None
    except csv.Error as exc:
        raise BadRequest(f"CSV 格式错误：{exc}", code="file.csv") from None


def read_path(path: Path) -> Iterator[Row]:
    with path.open("rb") as stream:
        yield from read_rows(stream, path.name)


def _headers(raw: Iterable[Any]) -> list[str]:
    headers = [str(h).strip().lstrip("\ufeff") if h is not None else "" for h in raw]
    if not any(headers):
        raise BadRequest("文件缺少表头行", code="file.no_header")
    return headers


def _read_csv(text: IO[str]) -> Iterator[Row]:
    csv.field_size_limit(1 << 20)
    reader = csv.reader(text)
    try:
        headers = _headers(next(reader))
    except StopIteration:
        raise BadRequest("文件为空", code="file.empty") from None
    for index, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(headers):
            extra = [c for c in cells[len(headers) :] if c.strip()]
            values: dict[str, Any] = dict(zip(headers, cells, strict=False))
            if extra:
                values["__extra__"] = extra
        else:
            values = dict(zip(headers, cells, strict=False))
        yield Row(index, values)


def _read_xlsx(stream: IO[bytes]) -> Iterator[Row]:
    import openpyxl  # imported here: only XLSX uploads need it

    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception:
        raise BadRequest("无法读取 XLSX 文件", code="file.xlsx") from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        try:
            headers = _headers(next(rows))
        except StopIteration:
            raise BadRequest("文件为空", code="file.empty") from None
        for index, cells in enumerate(rows, start=2):
            if not any(c is not None and str(c).strip() for c in cells):
                continue
            yield Row(index, {h: c for h, c in zip(headers, cells, strict=False) if h})
    finally:
        workbook.close()


class _Prepend(io.RawIOBase):
    """A byte stream that replays an already-read head before the rest of the underlying stream."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def safe_cell(value: object) -> str:
    """Neutralise spreadsheet formula injection (=, +, -, @ ...) by prefixing a quote."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def write_csv(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """Yield CSV text (UTF-8 with BOM so Excel opens Chinese correctly), every cell made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def write_xlsx(sheets: Iterable[tuple[str, Iterable[Iterable[object]]]]) -> bytes:
    """An XLSX workbook of named sheets (rows streamed, write-only); text cells made formula-safe as in CSV,
    numbers and dates kept as such. The first row of each sheet is its header, frozen."""
    import datetime as dt

    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = book.create_sheet(title=title[:31])
        sheet.freeze_panes = "A2"
        for row in rows:
            sheet.append(
                [
                    v if isinstance(v, int | float | dt.date) and not isinstance(v, bool) else safe_cell(v)
                    for v in row
                ]
            )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
