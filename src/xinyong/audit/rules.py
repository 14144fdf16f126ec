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
    """The entry's content as canonical JSON (sorted keys, UTC timestamps), excluding the hashes.

    Its "id" is the entry's position in its chain (``seq``): the row id is assigned by the database when the
    entry is written, after it was hashed. Entries of the single chain the trail began with have the two
    equal, so their hashes are unchanged.
    """
    content = {k: _jsonable(entry.get("seq" if k == "id" else k)) for k in HASHED_FIELDS}
    return json.dumps(content, sort_keys=True, ensure_ascii=False)


def entry_hash(prev_hash: str, entry: Mapping[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(entry)).encode()).hexdigest()


CHAINS = 16
"""Parallel chains: a transaction appends to one, so concurrent writers rarely wait for each other."""


@dataclass(frozen=True, slots=True)
class Break:
    """The first break found: the entry concerned (None when it was deleted), its chain and position."""

    entry_id: int | None
    reason: str
    chain: int | None = None
    position: int | None = None

    def describe(self) -> str:
        where = f"第{self.chain}链第{self.position}条" if self.chain is not None else ""
        entry = f"记录 #{self.entry_id}" if self.entry_id is not None else "已不存在的记录"
        return f"{entry}{f'（{where}）' if where else ''}：{self.reason}"


def verify_chain(
    chain: int, entries: Iterable[Mapping[str, Any]], head_seq: int, head_hash: str
) -> Break | None:
    """Walk one chain in position order; return the first break (changed, deleted or inserted) or None."""
    prev_hash, last_seq, last_id = GENESIS, 0, None
    for entry in entries:
        seq = entry["seq"]
        if seq > head_seq:
            return Break(entry["id"], "该记录位于链头之后（在应用之外插入）", chain, seq)
        if seq > last_seq + 1:
            after = f"，位于记录 #{last_id} 之后" if last_id is not None else ""
            return Break(
                None, f"该位置的记录缺失（被删除）{after}、记录 #{entry['id']} 之前", chain, last_seq + 1
            )
        if entry["prev_hash"] != prev_hash:
            return Break(entry["id"], "前一条记录的哈希不符（记录被删除或插入）", chain, seq)
        if entry_hash(prev_hash, entry) != entry["hash"]:
            return Break(entry["id"], "记录内容与其哈希不符（记录被修改）", chain, seq)
        prev_hash, last_seq, last_id = entry["hash"], seq, entry["id"]
    if head_seq > last_seq:
        after = f"，位于记录 #{last_id} 之后" if last_id is not None else ""
        return Break(None, f"该位置及其后的记录缺失（最新的记录被删除）{after}", chain, last_seq + 1)
    if head_seq and prev_hash != head_hash:
        return Break(last_id, "日志末尾与链头不符", chain, last_seq)
    return None
