"""Pure hash-chain rules: canonical content, keyed entry hashes, chain verification against checkpoints.

An entry's hash is an HMAC-SHA256 (with the audit key, which is never in the database) over the previous
entry's hash and its canonical content: someone who can write to the database but does not hold the key
cannot re-hash an edited entry so that it verifies. Deleting the newest entries and moving the head back, or
deleting a whole chain with its head, leaves a chain that is consistent in itself; signed checkpoints of the
chain heads kept outside the database (`audit.anchor`) name those.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
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


def entry_hash(prev_hash: str, entry: Mapping[str, Any], key: bytes | None) -> str:
    """The entry's hash: HMAC-SHA256 with the audit key over the previous hash and the canonical content.

    `key=None` is the unkeyed SHA-256 the trail used before it was keyed: `xinyong audit rekey` verifies old
    chains with it, and verify uses it to tell an entry edited and re-hashed by someone without the key.
    """
    data = (prev_hash + canonical(entry)).encode()
    if key is None:
        return hashlib.sha256(data).hexdigest()
    mac = _keyed(key).copy()  # the key's padded state is computed once, not for every entry
    mac.update(data)
    return mac.hexdigest()


@lru_cache(maxsize=4)
def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


# The attacks verify names (`Break.attack`), each a stable code with its Chinese name.
ATTACKS = {
    "edited": "记录被修改",
    "rehashed": "记录被修改并重新计算了哈希（无审计密钥）",
    "inserted": "记录在应用之外插入",
    "deleted": "记录被删除",
    "truncated": "最新的记录被删除且链头被回拨",
    "chain_deleted": "整条链连同链头被删除",
    "renumbered": "记录被删除后其后的记录被重新编号",
    "checkpoint_forged": "检查点签名无效（检查点被伪造或篡改）",
}
RENUMBER_PROBE = 1000
"""How far back verify looks for the position an entry was hashed at when its link is broken: an entry that
verifies at a later position with its own stored link was moved down by a renumbering."""


CHAINS = 16
"""Parallel chains: a transaction appends to one, so concurrent writers rarely wait for each other."""


@dataclass(frozen=True, slots=True)
class Break:
    """The first break found: the entry concerned (None when it was deleted), its chain and position."""

    entry_id: int | None
    reason: str
    chain: int | None = None
    position: int | None = None
    attack: str | None = None  # a key of ATTACKS

    def describe(self) -> str:
        where = f"第{self.chain}链第{self.position}条" if self.chain is not None else ""
        entry = f"记录 #{self.entry_id}" if self.entry_id is not None else "已不存在的记录"
        named = f"【{ATTACKS[self.attack]}】" if self.attack else ""
        return f"{named}{entry}{f'（{where}）' if where else ''}：{self.reason}"


def verify_chain(
    chain: int, entries: Iterable[Mapping[str, Any]], head_seq: int, head_hash: str, key: bytes | None
) -> Break | None:
    """Walk one chain in position order, hashes keyed with `key` (None: the unkeyed hashes of a trail written
    before it was keyed); return the first break (changed, deleted, inserted or renumbered) or None."""
    prev_hash, last_seq, last_id = GENESIS, 0, None
    for entry in entries:
        seq = entry["seq"]
        if seq > head_seq:
            return Break(entry["id"], "该记录位于链头之后（在应用之外插入）", chain, seq, "inserted")
        if seq > last_seq + 1:
            after = f"，位于记录 #{last_id} 之后" if last_id is not None else ""
            return Break(
                None,
                f"该位置的记录缺失（被删除）{after}、记录 #{entry['id']} 之前",
                chain,
                last_seq + 1,
                "deleted",
            )
        if entry["prev_hash"] != prev_hash:
            moved = renumbered_from(entry, key)
            if moved is not None:
                return Break(
                    entry["id"],
                    f"该记录原在第{moved}条，其前的{moved - seq}条记录被删除后被改为第{seq}条",
                    chain,
                    seq,
                    "renumbered",
                )
            return Break(entry["id"], "前一条记录的哈希不符（记录被删除或插入）", chain, seq, "inserted")
        if entry_hash(prev_hash, entry, key) != entry["hash"]:
            if key is not None and entry_hash(prev_hash, entry, None) == entry["hash"]:
                reason = "记录内容与其哈希不符：哈希是不用审计密钥重新计算的（记录被修改后重新计算哈希）"
                return Break(entry["id"], reason, chain, seq, "rehashed")
            return Break(entry["id"], "记录内容与其哈希不符（记录被修改）", chain, seq, "edited")
        prev_hash, last_seq, last_id = entry["hash"], seq, entry["id"]
    if head_seq > last_seq:
        after = f"，位于记录 #{last_id} 之后" if last_id is not None else ""
        return Break(
            None, f"该位置及其后的记录缺失（最新的记录被删除）{after}", chain, last_seq + 1, "deleted"
        )
    if head_seq and prev_hash != head_hash:
        return Break(last_id, "日志末尾与链头不符", chain, last_seq, "edited")
    return None


def renumbered_from(entry: Mapping[str, Any], key: bytes | None) -> int | None:
    """The later position an entry verifies at with its own stored link, if it was moved down (renumbered)."""
    for seq in range(entry["seq"] + 1, entry["seq"] + RENUMBER_PROBE + 1):
        if entry_hash(entry["prev_hash"], {**entry, "seq": seq}, key) == entry["hash"]:
            return seq
    return None


@dataclass(frozen=True, slots=True)
class HeadMark:
    """A chain head as a checkpoint recorded it: the newest entry's position, hash and row id."""

    seq: int
    hash: str
    entry_id: int | None


def check_against_checkpoint(
    chain: int,
    mark: HeadMark,
    at: str,
    head_seq: int | None,
    by_seq: Mapping[int, tuple[int, str]],
    by_hash: Mapping[str, tuple[int, int]],
    by_id: Mapping[int, int],
) -> Break | None:
    """Compare one chain as it is now with its head at the checkpoint taken at `at`.

    `head_seq` is the head row's position (None: no head row); `by_seq` maps position → (row id, hash) of the
    chain's entries, `by_hash` hash → (row id, position) and `by_id` row id → position.
    """
    if mark.seq == 0:
        return None
    found = by_seq.get(mark.seq)
    if found is not None and found[1] == mark.hash:
        return None
    since = f"检查点（{at}）记录第{chain}链链头为第{mark.seq}条"
    if head_seq is None and not by_seq:
        return Break(
            mark.entry_id, f"{since}，现在该链的记录和链头都不存在", chain, mark.seq, "chain_deleted"
        )
    moved = by_hash.get(mark.hash)
    if moved is not None and moved[1] != mark.seq:
        return Break(
            moved[0],
            f"{since}，该记录现为第{moved[1]}条（其前的记录被删除后重新编号）",
            chain,
            moved[1],
            "renumbered",
        )
    if mark.entry_id is not None and mark.entry_id in by_id and by_id[mark.entry_id] != mark.seq:
        position = by_id[mark.entry_id]
        return Break(
            mark.entry_id,
            f"{since}（记录 #{mark.entry_id}），该记录现为第{position}条（其前的记录被删除后重新编号）",
            chain,
            position,
            "renumbered",
        )
    if (head_seq or 0) < mark.seq:
        return Break(
            None,
            f"{since}，现在链头只到第{head_seq or 0}条（第{(head_seq or 0) + 1}条起的记录被删除，链头被回拨）",
            chain,
            (head_seq or 0) + 1,
            "truncated",
        )
    entry_id = found[0] if found is not None else None
    return Break(entry_id, f"{since}，该位置的记录与检查点的哈希不符（被改写）", chain, mark.seq, "rehashed")
