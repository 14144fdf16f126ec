"""Streaming readers for department files (CSV in UTF-8/GBK/GB18030, XLSX) and safe CSV export."""

from __future__ import annotations

import codecs
import csv
import io
import pickle
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from xinyong.kit import hygiene
from xinyong.kit.errors import BadRequest, PayloadTooLarge

SAMPLE_BYTES = 1 << 16
XLSX_MAGIC = b"PK\x03\x04"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


INVALID_CELLS = "__invalid__"  # the columns of a row whose text no store can hold (kit.hygiene), if any


@dataclass(frozen=True)
class Limits:
    """What a department file may hold. An XLSX is a zip of XML: its declared sizes and its sheet's
    `dimension` are the sender's word, so every one is checked against what is actually read."""

    rows: int = 1_048_576  # Excel's own maximum
    columns: int = 512
    cells: int = 50_000_000
    zip_entries: int = 2_000
    uncompressed_bytes: int = 2 << 30  # all the entries together, as decompressed
    entry_bytes: int = 1 << 30  # one entry (a sheet), as decompressed
    shared_strings_bytes: int = 128 << 20  # the shared strings are held in memory while the sheet is read
    ratio: int = 200  # decompressed / compressed, for an entry past 1 MiB (office XML is ~5-30)


LIMITS = Limits()
_RATIO_FLOOR = 1 << 20


class _LimitExceeded(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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


def read_rows(stream: IO[bytes], filename: str = "", limits: Limits = LIMITS) -> Iterator[Row]:
    """Yield the data rows of a CSV or XLSX file one at a time; memory stays flat for any size, and a file past
    `limits` stops with a clear error (`PayloadTooLarge`, code `file.xlsx_*` / `file.too_many_*`).

    A cell holding a NUL or a lone surrogate is replaced by U+FFFD and its column named in the row's
    `INVALID_CELLS` value, so that the row is rejected with its reason and can still be stored."""
    head = stream.read(SAMPLE_BYTES)
    if head.startswith(XLSX_MAGIC) or filename.lower().endswith((".xlsx", ".xlsm")):
        stream.seek(0)
        yield from _read_xlsx(stream, limits)
        return
    encoding = detect_encoding(head)
    text = io.TextIOWrapper(
        io.BufferedReader(_Prepend(head, stream)), encoding=encoding, errors="strict", newline=""
    )
    try:
        yield from _read_csv(text, limits)
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
    headers = [hygiene.clean_text(str(h).strip().lstrip("\ufeff")) if h is not None else "" for h in raw]
    if not any(headers):
        raise BadRequest("文件缺少表头行", code="file.no_header")
    return headers


def _row(number: int, values: dict[str, Any]) -> Row:
    """The row, any text no store can hold replaced and its columns named (`INVALID_CELLS`)."""
    invalid = [h for h, v in values.items() if isinstance(v, str) and hygiene.bad_text(v)]
    if invalid:
        values = {h: hygiene.clean_text(v) if h in invalid else v for h, v in values.items()}
        values[INVALID_CELLS] = invalid
    return Row(number, values)


def _too_many_columns(limits: Limits) -> PayloadTooLarge:
    return PayloadTooLarge(f"文件列数超过{limits.columns}列上限", code="file.too_many_columns")


def _too_many_rows(limits: Limits) -> PayloadTooLarge:
    return PayloadTooLarge(f"文件行数超过{limits.rows}行上限", code="file.too_many_rows")


def _read_csv(text: IO[str], limits: Limits) -> Iterator[Row]:
    csv.field_size_limit(1 << 20)
    reader = csv.reader(text)
    try:
        headers = _headers(next(reader))
    except StopIteration:
        raise BadRequest("文件为空", code="file.empty") from None
    if len(headers) > limits.columns:
        raise _too_many_columns(limits)
    for index, cells in enumerate(reader, start=2):
        if index > limits.rows:
            raise _too_many_rows(limits)
        if len(cells) > limits.columns:
            raise _too_many_columns(limits)
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(headers):
            extra = [c for c in cells[len(headers) :] if c.strip()]
            values: dict[str, Any] = dict(zip(headers, cells, strict=False))
            if extra:
                values["__extra__"] = [hygiene.clean_text(c) for c in extra]
        else:
            values = dict(zip(headers, cells, strict=False))
        yield _row(index, values)


def _read_xlsx(stream: IO[bytes], limits: Limits) -> Iterator[Row]:
    """The first sheet's rows, read by openpyxl's streaming parser from a zip whose every read is counted
    (`_GuardedZip`). Cells are placed by their own references, not by the sheet's declared dimension; a row
    or a column past the limits stops the read before it is built."""
    from openpyxl.reader.excel import ExcelReader  # imported here: only XLSX uploads need it
    from openpyxl.worksheet._reader import WorkSheetParser

    try:
        archive = _GuardedZip(stream, limits)
        reader = ExcelReader(stream, read_only=True, data_only=True)
        reader.archive.close()
        reader.archive = archive
        reader.read()
        workbook = reader.wb
        sheet = workbook.worksheets[0]
    except _LimitExceeded as exc:
        raise PayloadTooLarge(exc.message, code=exc.code) from None
    except Exception:
        raise BadRequest("无法读取 XLSX 文件", code="file.xlsx") from None
    try:
        with archive.open(sheet._worksheet_path) as source:
            parser = WorkSheetParser(
                source,
                sheet._shared_strings,
                data_only=True,
                epoch=workbook.epoch,
                date_formats=workbook._date_formats,
                timedelta_formats=workbook._timedelta_formats,
            )
            yield from _xlsx_rows(_parsed(parser), limits)
    finally:
        archive.close()


def _parsed(parser: Any) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """The parser's (row number, cells), its failures (malformed XML, a NUL character reference, a limit
    reached while decompressing) as clear errors."""
    rows = parser.parse()
    while True:
        try:
            item = next(rows)
        except StopIteration:
            return
        except _LimitExceeded as exc:
            raise PayloadTooLarge(exc.message, code=exc.code) from None
        except Exception:
            raise BadRequest("XLSX 文件内容无法解析（工作表 XML 有误）", code="file.xlsx") from None
        yield item


def _xlsx_rows(rows: Iterator[tuple[int, list[dict[str, Any]]]], limits: Limits) -> Iterator[Row]:
    headers: list[str] | None = None
    cells_read = 0
    for number, cells in rows:
        if number > limits.rows:
            raise _too_many_rows(limits)
        cells_read += len(cells)
        if cells_read > limits.cells:
            raise PayloadTooLarge(f"文件单元格数超过{limits.cells}个上限", code="file.too_many_cells")
        by_column: dict[int, Any] = {}
        for cell in cells:
            column = cell["column"]
            if column > limits.columns:
                raise _too_many_columns(limits)
            by_column[column] = cell["value"]
        if headers is None:
            if not by_column:
                continue
            headers = _headers(by_column.get(c) for c in range(1, max(by_column) + 1))
            continue
        if not any(v is not None and str(v).strip() for v in by_column.values()):
            continue
        values = {h: by_column.get(c) for c, h in enumerate(headers, start=1) if h}
        yield _row(number, values)
    if headers is None:
        raise BadRequest("文件为空", code="file.empty")


class _GuardedZip(zipfile.ZipFile):
    """A zip whose central directory is checked on opening (entries, declared sizes and ratios) and whose
    every entry is counted as it is decompressed, so a size it understates is caught all the same."""

    def __init__(self, stream: IO[bytes], limits: Limits) -> None:
        super().__init__(stream)
        self.limits = limits
        self.decompressed = 0
        entries = self.infolist()
        if len(entries) > limits.zip_entries:
            raise _LimitExceeded("file.xlsx_entries", f"XLSX 文件内部条目超过{limits.zip_entries}个")
        if sum(e.file_size for e in entries) > limits.uncompressed_bytes:
            raise self._too_big()
        for entry in entries:
            self._check(entry, entry.file_size)

    def _too_big(self) -> _LimitExceeded:
        size = self.limits.uncompressed_bytes >> 20
        return _LimitExceeded("file.xlsx_uncompressed", f"XLSX 文件解压后超过{size}MB上限")

    def _check(self, entry: zipfile.ZipInfo, size: int) -> None:
        if size > self.limits.entry_bytes:
            mb = self.limits.entry_bytes >> 20
            raise _LimitExceeded(
                "file.xlsx_uncompressed", f"XLSX 文件中的 {entry.filename} 解压后超过{mb}MB上限"
            )
        if entry.filename.lower().endswith("sharedstrings.xml") and size > self.limits.shared_strings_bytes:
            mb = self.limits.shared_strings_bytes >> 20
            raise _LimitExceeded("file.xlsx_shared_strings", f"XLSX 文件的共享字符串超过{mb}MB上限")
        if size > _RATIO_FLOOR and size > self.limits.ratio * max(entry.compress_size, 1):
            raise _LimitExceeded(
                "file.xlsx_ratio", f"XLSX 文件压缩比异常（超过{self.limits.ratio}倍），疑似压缩炸弹"
            )

    def open(self, name: Any, mode: Literal["r", "w"] = "r", pwd: bytes | None = None, **kwargs: Any) -> Any:
        handle = super().open(name, mode, pwd, **kwargs)
        if mode != "r":
            return handle
        entry = name if isinstance(name, zipfile.ZipInfo) else self.getinfo(name)
        return _CountedEntry(handle, self, entry)

    def count(self, entry: zipfile.ZipInfo, entry_total: int, more: int) -> None:
        self.decompressed += more
        if self.decompressed > self.limits.uncompressed_bytes:
            raise self._too_big()
        self._check(entry, entry_total)


class _CountedEntry(io.RawIOBase):
    """A zip entry being decompressed, its bytes counted against the archive's limits as they come."""

    def __init__(self, handle: IO[bytes], archive: _GuardedZip, entry: zipfile.ZipInfo) -> None:
        self._handle = handle
        self._archive = archive
        self._entry = entry
        self._read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._handle.read(-1 if size is None else size)
        self._read += len(data)
        self._archive.count(self._entry, self._read, len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._handle.close()
        super().close()


def spool_rows(rows: Iterable[Row]) -> Iterator[Row]:
    """Read every row now (a file's errors and limits are met here), kept in a temporary file rather than in
    memory; the rows are then given back in order. An upload is parsed this way before its request opens a
    write transaction, so parsing never holds the store's write lock."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed by the iterator that reads it back
    try:
        for row in rows:
            # One pickle per row, each read back by an unpickler of its own: a pickler's memo shared across
            # rows grows with the file, and one cleared between rows would not match the reader's.
            pickle.dump((row.number, row.values), spool, protocol=pickle.HIGHEST_PROTOCOL)
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return _unspooled(spool)


def _unspooled(spool: IO[bytes]) -> Iterator[Row]:
    with spool:
        while True:
            try:
                number, values = pickle.load(spool)  # noqa: S301 - the platform's own temporary file, written above
            except EOFError:
                return
            yield Row(number, values)


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
