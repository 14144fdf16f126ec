"""A department's batch of credit reports issued from the console: an XLSX (or CSV) of USCCs and a purpose in,
a ZIP of signed reports out, worked off the request in a background thread of the serving process.

No table holds a batch: its state lives in the data directory beside the reports it issues
(`DATA_DIR/report-batches/{id}/`): `batch.json` (who, purpose, kind, counts, status, heartbeat; replaced
atomically), `codes.json` (the rows read from the upload), `results.jsonl` (one line per row worked: the report
number or the reason it failed; appended, so a restart loses at most the line being written) and, once done,
`reports.zip` (built from the stored PDFs, with `receipt.json`). Each report is issued in its own transaction
by `service.issue` — audited as `report.issue` with the batch's purpose and logged on the subject's file.

One batch runs at a time per department. A batch whose worker is gone (the serving process restarted, or it
stopped beating for `STALE`) is marked `interrupted` when next read; `resume` carries on from the first row
without a result, so nothing is issued twice and nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import secrets
import socket
import threading
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO

import orjson
from sqlalchemy.orm import Session, sessionmaker

from xinyong.accounts.policy import Principal
from xinyong.db.session import transaction
from xinyong.kit.errors import Conflict, NotFound, ValidationFailed, XinyongError
from xinyong.kit.identifiers import mask_ids
from xinyong.kit.tabular import Limits, read_rows
from xinyong.reports import content, service
from xinyong.subjects import service as subjects

log = logging.getLogger(__name__)

MAX_CODES = 1000  # rows of codes one batch may hold
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
# A sheet of 1,000 codes is a few tens of kilobytes: anything far bigger is refused while it is read.
UPLOAD_LIMITS = Limits(
    rows=2 * MAX_CODES,  # past MAX_CODES read_upload refuses with its own message
    columns=64,
    cells=64 * 2 * MAX_CODES,
    zip_entries=64,
    uncompressed_bytes=32 << 20,
    entry_bytes=16 << 20,
    shared_strings_bytes=8 << 20,
)
CODE_COLUMNS = ("统一社会信用代码", "uscc", "USCC")
STALE = dt.timedelta(minutes=5)  # a running batch silent this long has lost its worker
FOLDER = "report-batches"
STATUS_LABELS = {
    "running": "出具中",
    "done": "已完成",
    "interrupted": "已中断",
    "failed": "出错停止",
}

# This serving process: a batch it started names it; another process's batch is judged by its heartbeat.
_PROCESS = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
_workers: dict[str, threading.Thread] = {}
_pending: dict[str, float] = {}  # created by this process, its worker about to start (monotonic time)
_workers_lock = threading.RLock()
PENDING = 60.0  # seconds a created batch may wait for its worker before it counts as interrupted


@dataclass(slots=True)
class Batch:
    id: str
    department_code: str
    created_by: str
    purpose: str
    kind: str
    fields: list[str]
    as_of: str  # the day the reports are issued as of (ISO)
    total: int
    filename: str
    status: str = "running"
    done: int = 0
    issued: int = 0
    failed: int = 0
    owner: str = ""
    created_at: str = ""
    updated_at: str = ""  # the heartbeat: set at every row worked
    finished_at: str | None = None
    error: str | None = None
    resumed: int = 0

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def created(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.created_at)

    @property
    def finished(self) -> dt.datetime | None:
        return dt.datetime.fromisoformat(self.finished_at) if self.finished_at else None

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else self.done * 100 // self.total


@dataclass(frozen=True, slots=True)
class Result:
    row: int
    uscc: str
    report_number: str | None = None
    error: str | None = None
    code: str | None = None


@dataclass(slots=True)
class Upload:
    """The rows of an upload: (file row number, code) in file order."""

    rows: list[tuple[int, str]] = field(default_factory=list)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _root(data_dir: Path) -> Path:
    return data_dir / FOLDER


def _folder(data_dir: Path, batch_id: str) -> Path:
    if len(batch_id) != 32 or not all(c in "0123456789abcdef" for c in batch_id):
        raise NotFound("未找到该批量出具任务", code="reports.batch_not_found")
    return _root(data_dir) / batch_id


def _write_state(data_dir: Path, batch: Batch) -> None:
    folder = _folder(data_dir, batch.id)
    temporary = folder / f"batch.json.{os.getpid()}.{threading.get_ident()}"
    temporary.write_bytes(orjson.dumps(asdict(batch)))
    os.replace(temporary, folder / "batch.json")


def _read_state(data_dir: Path, batch_id: str) -> Batch:
    path = _folder(data_dir, batch_id) / "batch.json"
    try:
        return Batch(**orjson.loads(path.read_bytes()))
    except FileNotFoundError:
        raise NotFound("未找到该批量出具任务", code="reports.batch_not_found") from None


@contextmanager
def _department_lock(data_dir: Path) -> Iterator[None]:
    """Serialises starting batches (across threads and processes on this host)."""
    root = _root(data_dir)
    root.mkdir(parents=True, exist_ok=True)
    with _workers_lock, (root / ".lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_upload(stream: IO[bytes], filename: str) -> Upload:
    """The codes of an uploaded XLSX or CSV (column 统一社会信用代码 or uscc), at most MAX_CODES rows."""
    upload = Upload()
    for row in read_rows(stream, filename, UPLOAD_LIMITS):
        if len(upload.rows) >= MAX_CODES:
            raise ValidationFailed(f"一次最多出具 {MAX_CODES} 个主体的报告", code="reports.batch_too_large")
        value = next(
            (str(row.values[c]).strip() for c in CODE_COLUMNS if row.values.get(c) not in (None, "")), ""
        )
        # A resident ID put where a code belongs is never kept or shown in clear (it fails as unknown anyway).
        upload.rows.append((row.number, mask_ids(value[:40])))
    if not any(code for _, code in upload.rows):
        raise ValidationFailed("文件中没有主体：请提供“统一社会信用代码”一列", code="reports.batch_empty")
    return upload


def _effective(data_dir: Path, batch: Batch) -> Batch:
    """The batch as it stands: a running one whose worker is gone is marked interrupted (and saved)."""
    if batch.status != "running":
        return batch
    if batch.owner == _PROCESS:
        worker = _workers.get(batch.id)
        waiting = time.monotonic() - _pending.get(batch.id, -PENDING) < PENDING
        alive = waiting or (worker is not None and worker.is_alive())
    else:
        beat = dt.datetime.fromisoformat(batch.updated_at or batch.created_at)
        alive = dt.datetime.now(dt.UTC) - beat < STALE and _owner_may_live(batch.owner)
    if not alive:
        batch.status = "interrupted"
        batch.finished_at = _now()
        _write_state(data_dir, batch)
    return batch


def _owner_may_live(owner: str) -> bool:
    """False when the owner ran on this host and its process is gone (a restart); otherwise unknown: True."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def get(data_dir: Path, principal: Principal, batch_id: str) -> Batch:
    """A batch of the viewer's department; another department's is said not to exist."""
    batch = _read_state(data_dir, batch_id)
    if principal.department_code is None or batch.department_code != principal.department_code:
        raise NotFound("未找到该批量出具任务", code="reports.batch_not_found")
    return _effective(data_dir, batch)


def of_department(data_dir: Path, department_code: str, limit: int = 20) -> list[Batch]:
    """The department's batches, newest first."""
    root = _root(data_dir)
    if not root.is_dir():
        return []
    found = []
    for folder in root.iterdir():
        state = folder / "batch.json"
        if not state.is_file():
            continue
        batch = Batch(**orjson.loads(state.read_bytes()))
        if batch.department_code == department_code:
            found.append(batch)
    found.sort(key=lambda b: b.created_at, reverse=True)
    return [_effective(data_dir, b) for b in found[:limit]]


def _running(data_dir: Path, department_code: str) -> Batch | None:
    return next((b for b in of_department(data_dir, department_code, 1000) if b.status == "running"), None)


def create(
    data_dir: Path,
    principal: Principal,
    upload: Upload,
    *,
    purpose: str,
    kind: str,
    fields: Sequence[str],
    today: dt.date,
    filename: str,
) -> Batch:
    """Record a new batch of the principal's department (not yet started: `start` runs it)."""
    if principal.department_code is None:
        raise ValidationFailed("只有政府部门用户可以批量出具信用报告", code="reports.batch_department")
    purpose = purpose.strip()
    if not purpose:
        raise ValidationFailed("批量出具信用报告须说明查询事由", code="reports.purpose_required")
    if kind not in ("standard", "special"):
        raise ValidationFailed("报告类型只能是 standard 或 special", code="reports.kind")
    spec = content.special_spec()
    if kind == "special":
        if not fields:
            raise ValidationFailed("专项信用报告须选择至少一个领域", code="reports.fields_required")
        if any(spec.field(f) is None for f in fields):
            raise ValidationFailed("未知领域", code="reports.unknown_field")
    with _department_lock(data_dir):
        if _running(data_dir, principal.department_code) is not None:
            raise Conflict("本部门已有一批报告正在出具，请待其完成后再提交", code="reports.batch_running")
        batch = Batch(
            id=secrets.token_hex(16),
            department_code=principal.department_code,
            created_by=principal.name,
            purpose=purpose[:200],
            kind=kind,
            fields=list(fields) if kind == "special" else [],
            as_of=today.isoformat(),
            total=len(upload.rows),
            filename=filename[:200],
            owner=_PROCESS,
            created_at=_now(),
            updated_at=_now(),
        )
        folder = _root(data_dir) / batch.id
        folder.mkdir(parents=True)
        (folder / "codes.json").write_bytes(orjson.dumps(upload.rows))
        (folder / "results.jsonl").touch()
        _write_state(data_dir, batch)
        _pending[batch.id] = time.monotonic()
    return batch


def results(data_dir: Path, batch_id: str) -> list[Result]:
    """The rows worked so far, in order (a line torn by a crash is ignored: that row is worked again)."""
    out = []
    with (_folder(data_dir, batch_id) / "results.jsonl").open("rb") as stream:
        for line in stream:
            try:
                out.append(Result(**orjson.loads(line)))
            except (orjson.JSONDecodeError, TypeError):
                break
    return out


def failures(data_dir: Path, batch_id: str) -> list[Result]:
    return [r for r in results(data_dir, batch_id) if r.error is not None]


def zip_path(data_dir: Path, batch: Batch) -> Path | None:
    """The finished batch's ZIP, or None while it is not done."""
    path = _folder(data_dir, batch.id) / "reports.zip"
    return path if batch.status == "done" and path.is_file() else None


def resume(data_dir: Path, principal: Principal, batch_id: str) -> Batch:
    """Mark an interrupted batch of the principal's department running again (then `start` it)."""
    with _department_lock(data_dir):
        batch = get(data_dir, principal, batch_id)
        if batch.status != "interrupted":
            raise Conflict("只有已中断的任务可以继续", code="reports.batch_not_interrupted")
        if _running(data_dir, batch.department_code) is not None:
            raise Conflict("本部门已有一批报告正在出具，请待其完成后再提交", code="reports.batch_running")
        batch.status, batch.owner, batch.finished_at = "running", _PROCESS, None
        batch.updated_at, batch.resumed = _now(), batch.resumed + 1
        _write_state(data_dir, batch)
        _pending[batch.id] = time.monotonic()
    return batch


def start(
    sessions: sessionmaker[Session], context: service.ReportContext, principal: Principal, batch: Batch
) -> threading.Thread:
    """Work the batch in a background thread of this process."""
    worker = threading.Thread(
        target=run,
        args=(sessions, context, principal, batch.id),
        name=f"report-batch-{batch.id}",
        daemon=True,
    )
    with _workers_lock:
        _workers[batch.id] = worker
        worker.start()
        _pending.pop(batch.id, None)
    return worker


def wait(batch_id: str, timeout: float | None = None) -> None:
    """Until this process's worker of the batch has finished (tests, shutdown)."""
    worker = _workers.get(batch_id)
    if worker is not None:
        worker.join(timeout)


def run(
    sessions: sessionmaker[Session], context: service.ReportContext, principal: Principal, batch_id: str
) -> Batch:
    """Issue a report per row not yet worked (each in its own transaction; a row that fails is listed and the
    batch goes on), then write the ZIP. An unexpected error stops the batch as failed, with the reason."""
    data_dir = context.data_dir
    batch = _read_state(data_dir, batch_id)
    folder = _folder(data_dir, batch_id)
    try:
        rows = [(int(n), str(c)) for n, c in orjson.loads((folder / "codes.json").read_bytes())]
        worked = results(data_dir, batch_id)
        _rewrite_results(folder, worked)  # drop a torn last line before appending
        day = dt.date.fromisoformat(batch.as_of)
        seen = {r.uscc: r.row for r in worked if r.uscc}
        with (folder / "results.jsonl").open("ab") as out:
            for number, code in rows[len(worked) :]:
                result = _work(sessions, context, principal, batch, day, number, code, seen)
                out.write(orjson.dumps(asdict(result)) + b"\n")
                out.flush()
                batch.done += 1
                batch.issued += result.report_number is not None
                batch.failed += result.error is not None
                batch.updated_at = _now()
                _write_state(data_dir, batch)
        _write_zip(sessions, data_dir, batch)
        batch.status, batch.finished_at = "done", _now()
    except Exception as exc:  # the worker must leave the batch in a state the page can show
        log.exception("report batch %s stopped", batch_id)
        batch.status, batch.finished_at, batch.error = "failed", _now(), type(exc).__name__
    _write_state(data_dir, batch)
    return batch


def _rewrite_results(folder: Path, worked: list[Result]) -> None:
    (folder / "results.jsonl").write_bytes(b"".join(orjson.dumps(asdict(r)) + b"\n" for r in worked))


def _work(
    sessions: sessionmaker[Session],
    context: service.ReportContext,
    principal: Principal,
    batch: Batch,
    day: dt.date,
    number: int,
    code: str,
    seen: dict[str, int],
) -> Result:
    if not code:
        return Result(number, code, error="缺少统一社会信用代码", code="reports.batch_no_code")
    if code in seen:
        return Result(number, code, error=f"与第 {seen[code]} 行重复", code="reports.batch_duplicate")
    seen[code] = number
    try:
        with transaction(sessions) as session:
            subject = subjects.get_by_uscc(session, code)
            report = service.issue(
                session,
                context,
                principal,
                subject_id=subject.id,
                kind=batch.kind,
                today=day,
                fields=batch.fields,
                purpose=batch.purpose,
            )
            return Result(number, code, report_number=report.number)
    except XinyongError as exc:
        return Result(number, code, error=exc.message, code=exc.code)


def _write_zip(sessions: sessionmaker[Session], data_dir: Path, batch: Batch) -> None:
    folder = _folder(data_dir, batch.id)
    worked = results(data_dir, batch.id)
    temporary = folder / "reports.zip.part"
    with transaction(sessions, write=False) as session, zipfile.ZipFile(temporary, "w") as archive:
        for result in worked:
            if result.report_number is None:
                continue
            report = service.get(session, result.report_number)
            archive.writestr(f"{result.uscc}-{result.report_number}.pdf", service.read_pdf(data_dir, report))
        receipt = [{k: v for k, v in asdict(r).items() if v is not None} for r in worked]
        archive.writestr("receipt.json", orjson.dumps(receipt, option=orjson.OPT_INDENT_2))
    os.replace(temporary, folder / "reports.zip")


def finished_zip(data_dir: Path, principal: Principal, batch_id: str) -> tuple[Batch, Path]:
    """The finished batch's ZIP file (hundreds of megabytes for 1,000 reports: streamed, never read whole), for
    its department only."""
    batch = get(data_dir, principal, batch_id)
    path = zip_path(data_dir, batch)
    if path is None:
        raise Conflict("该批次尚未完成", code="reports.batch_not_done")
    return batch, path
