"""Pure hash-chain rules: canonical content, entry hashes, and chain verification."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64
HASHED_FIELDS = (
    "id",
    "at",
    "action",
    "outcome",
    "actor_kind",
    "actor",
    "department_code",
    "subject_id",
    "target",
    "purpose",
    "ip",
    "details",
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return value


def canonical(entry: Mapping[str, Any]) -> str:
    """The entry's content as canonical JSON (sorted keys, UTC timestamps), excluding the hashes."""
    return json.dumps({k: _jsonable(entry.get(k)) for k in HASHED_FIELDS}, sort_keys=True, ensure_ascii=False)


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(entry)).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Break:
    entry_id: int | None
    reason: str


def verify(entries: Iterable[Mapping[str, Any]], head_id: int, head_hash: str) -> Break | None:
    """Walk the chain in id order; return the first break (changed, deleted or inserted entry) or None."""
    prev_hash, last_id = GENESIS, 0
    for entry in entries:
        if entry["id"] > last_id + 1:
            return Break(last_id + 1, "该条记录缺失（被删除）")
        if entry["prev_hash"] != prev_hash:
            return Break(entry["id"], "前一条记录的哈希不符（记录被删除或插入）")
        if entry_hash(prev_hash, entry) != entry["hash"]:
            return Break(entry["id"], "记录内容与其哈希不符（记录被修改）")
        prev_hash, last_id = entry["hash"], entry["id"]
    if head_id > last_id:
        return Break(last_id + 1, "该条及其后的记录缺失（最新的记录被删除）")
    if (last_id, prev_hash) != (head_id, head_hash if head_id else GENESIS):
        return Break(last_id or None, "日志末尾与链头不符（链头之后有插入的记录）")
    return None
