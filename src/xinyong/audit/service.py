"""Appending to and verifying the audit trail. Appends run in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from xinyong.accounts.policy import Principal
from xinyong.audit import rules
from xinyong.audit.models import AuditEntry, AuditHead
from xinyong.db import bulk, counting
from xinyong.kit.identifiers import mask_ids, mask_ids_in
from xinyong.kit.pagination import Page, clamp

__all__ = [
    "AuditEntry",
    "Draft",
    "TrailFilter",
    "append_statement_pg",
    "chain_key",
    "chained",
    "held_chain",
    "hold",
    "iter_trail",
    "locked_head",
    "record",
    "record_many",
    "rekey",
    "trail_newest_id",
    "trail_page",
    "verify",
    "views_of_subject",
]


_HEADS = cast(Table, AuditHead.__table__)
_ENTRIES = cast(Table, AuditEntry.__table__)
# Built once: an append is on the path of every audited request (building a statement costs more than
# running it there).
_HEAD_COLUMNS = select(_HEADS.c.id, _HEADS.c.last_id, _HEADS.c.last_hash)
FREE_HEAD = _HEAD_COLUMNS.order_by(func.random()).limit(1).with_for_update(skip_locked=True)
"""Any chain head no other transaction holds, locked (`id`, `last_id`, `last_hash`): for a caller that takes it
in its first statement (as a CTE) and then calls `hold`."""
_HEAD = _HEAD_COLUMNS.where(_HEADS.c.id == bindparam("chain")).with_for_update()
_INSERT_ENTRY = insert(_ENTRIES).returning(_ENTRIES.c.id, sort_by_parameter_order=True)
_MOVE_HEAD = (
    update(_HEADS)
    .where(_HEADS.c.id == bindparam("head_chain"))
    .values(last_id=bindparam("head_seq"), last_hash=bindparam("head_hash"))
)
# PostgreSQL moves the head in the same statement as the insert (a data-modifying WITH): one round trip, for
# one entry or many (a multi-row INSERT; the WITH's parameters are the same in every row).
_INSERT_ENTRY_MOVING_HEAD = (
    insert(_ENTRIES).add_cte(_MOVE_HEAD.cte("moved")).returning(_ENTRIES.c.id, sort_by_parameter_order=True)
)


KEY_INFO = "audit_key"
"""The `Session.info` entry holding the audit chain's HMAC key (bytes): the platform's sessionmaker sets it
(`make_sessionmaker(engine, info=...)`), so the key travels with the sessions and never into the database."""


def chain_key(session: Session) -> bytes:
    """The audit key of this session's platform; a session made without one cannot append or verify."""
    key = session.info.get(KEY_INFO)
    if not isinstance(key, bytes) or not key:
        raise RuntimeError("this session carries no audit key (use the platform's sessions)")
    return key


def locked_head(session: Session) -> tuple[int, int, str]:
    """The head (chain, position, hash) of the chain this transaction appends to, locked until it commits.

    The first append of a transaction takes any chain head no other transaction holds (SKIP LOCKED), so
    concurrent requests do not wait for each other until every chain is busy; later appends of the same
    transaction stay on its chain. SQLite serialises writers anyway (FOR UPDATE is not emitted there).
    """
    connection = session.connection()  # begins the transaction if it has not begun, so it can be told apart
    held = held_chain(session)
    if held is not None:
        head = connection.execute(_HEAD, {"chain": held}).one()
        return head.id, head.last_id, head.last_hash
    found = connection.execute(FREE_HEAD).first()
    if found is None:  # every chain busy (or none yet): wait for one
        chain = secrets.randbelow(rules.CHAINS) + 1
        found = connection.execute(_HEAD, {"chain": chain}).first()
        if found is None:
            connection.execute(insert(_HEADS).values(id=chain, last_id=0, last_hash=rules.GENESIS))
            found = connection.execute(_HEAD, {"chain": chain}).one()
    hold(session, found.id)
    return found.id, found.last_id, found.last_hash


def held_chain(session: Session) -> int | None:
    """The chain whose head this session's transaction holds, if it has appended (or taken a head) yet."""
    held = session.info.get("audit_head")
    return held[1] if held is not None and held[0] is session.get_transaction() else None


def hold(session: Session, chain: int) -> None:
    """Note that the session's transaction holds (has locked) the head of `chain`: its later appends stay on
    it. Called by `locked_head`, and by a caller that locked a head itself (`FREE_HEAD`)."""
    session.info["audit_head"] = (session.get_transaction(), chain)


@dataclass(frozen=True)
class Draft:
    """One entry to append: who did what, to whom, why. Never put personal IDs in clear in `details`."""

    principal: Principal
    action: str
    outcome: str = "ok"
    subject_id: int | None = None
    target: str | None = None
    purpose: str | None = None
    ip: str | None = None
    details: dict[str, Any] | None = None


def record(
    session: Session,
    principal: Principal,
    action: str,
    *,
    outcome: str = "ok",
    subject_id: int | None = None,
    target: str | None = None,
    purpose: str | None = None,
    ip: str | None = None,
    details: dict[str, Any] | None = None,
) -> int:
    """Append one entry to the chain this transaction holds and return its id. Never pass personal IDs in
    clear in `details`."""
    draft = Draft(principal, action, outcome, subject_id, target, purpose, ip, details)
    return record_many(session, [draft])[0]


def record_many(session: Session, drafts: Sequence[Draft]) -> list[int]:
    """Append entries, in order, to the chain this transaction holds and return their ids: one head lock and
    one INSERT however many entries (a batch of checks is audited entry by entry, in one append)."""
    session.flush()  # what the caller changed goes first, as a flush before the entry always did
    entries, move = chained(drafts, *locked_head(session), key=chain_key(session))
    connection = session.connection()
    if connection.dialect.name == "postgresql":  # one statement: entries in, head moved
        return [
            int(i)
            for i in connection.execute(_INSERT_ENTRY_MOVING_HEAD, [e | move for e in entries]).scalars()
        ]
    ids = [int(i) for i in connection.execute(_INSERT_ENTRY, entries).scalars()]
    connection.execute(_MOVE_HEAD, move)
    return ids


def chained(
    drafts: Sequence[Draft], chain: int, seq: int, digest: str, *, key: bytes
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The entries of `drafts` appended after position `seq` (hash `digest`) of `chain`, each hashed (keyed
    with `key`, `chain_key`) over the one before it, and the head's move to the last of them (`head_chain`,
    `head_seq`, `head_hash`)."""
    now = dt.datetime.now(dt.UTC)
    entries = []
    for draft in drafts:
        # Resident IDs are masked in every text of the trail (a purpose, a username tried, a target, details):
        # the trail is shown to auditors and, as "who viewed my file", to subjects.
        content: dict[str, Any] = {
            "at": now,
            "action": draft.action,
            "outcome": draft.outcome,
            "actor_kind": draft.principal.kind,
            "actor": mask_ids(draft.principal.name)[:64],
            "department_code": draft.principal.department_code,
            "subject_id": draft.subject_id,
            "target": mask_ids(draft.target)[:200] if draft.target else None,
            "purpose": mask_ids(draft.purpose)[:200] if draft.purpose else None,
            "ip": draft.ip,
            "details": mask_ids_in(draft.details) if draft.details else draft.details,
        }
        seq, prev = seq + 1, digest
        digest = rules.entry_hash(prev, {**content, "seq": seq}, key)
        entries.append({**content, "chain": chain, "seq": seq, "prev_hash": prev, "hash": digest})
    return entries, {"head_chain": chain, "head_seq": seq, "head_hash": digest}


_ENTRY_COLUMNS = tuple(c.name for c in _ENTRIES.c if c.name != "id")
_MOVE_HEAD_PG = f"UPDATE {_HEADS.name} SET last_id = %s, last_hash = %s WHERE id = %s"  # noqa: S608 - no input


def append_statement_pg(
    entries: Sequence[dict[str, Any]],
    move: dict[str, Any],
    before: Sequence[tuple[str, str, Sequence[Any]]] = (),
) -> tuple[str, tuple[Any, ...]]:
    """PostgreSQL: one statement, as driver SQL and positional parameters, that appends `entries` (from
    `chained`, on a head the transaction holds), moves the head, and first runs the caller's own
    data-modifying statements `before` (name, SQL, parameters), each as a WITH query — one round trip for
    a batch's rows and its audit entries."""
    ctes = [
        ("moved", _MOVE_HEAD_PG, (move["head_seq"], move["head_hash"], move["head_chain"])),
        *before,
    ]
    sql = "WITH " + ", ".join(f"{name} AS ({text})" for name, text, _ in ctes) + " "
    sql += bulk.recordset_insert_sql(_ENTRIES, _ENTRY_COLUMNS)
    return sql, (*(p for _, _, values in ctes for p in values), bulk.recordset(entries))


def _rows(session: Session, chain: int) -> Iterator[dict[str, Any]]:
    columns = [getattr(AuditEntry, f) for f in (*rules.HASHED_FIELDS, "seq", "prev_hash", "hash")]
    result = session.execute(
        select(*columns)
        .where(AuditEntry.chain == chain)
        .order_by(AuditEntry.seq)
        .execution_options(yield_per=5000)
    )
    for row in result:
        yield dict(row._mapping)


def verify(session: Session, checkpoints: Sequence[Checkpoint] = ()) -> rules.Break | None:
    """Check every chain; the first break names the entry changed or inserted, or where one was removed."""
    found = findings(session, checkpoints)
    return found[0] if found else None


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The chain heads at one moment, as a signed checkpoint kept outside the database recorded them."""

    at: str
    heads: dict[int, rules.HeadMark]


def findings(session: Session, checkpoints: Sequence[Checkpoint] = ()) -> list[rules.Break]:
    """Every chain's first break, then each chain compared with the newest checkpoint that names it: an entry
    edited (and re-hashed without the key), inserted, deleted or renumbered; the newest entries deleted with
    the head moved back; a whole chain deleted with its head."""
    key = chain_key(session)
    stray = session.scalar(
        select(AuditEntry.id)
        .where(or_(AuditEntry.chain.is_(None), AuditEntry.seq.is_(None)))
        .order_by(AuditEntry.id)
        .limit(1)
    )
    found: list[rules.Break] = []
    if stray is not None:
        found.append(rules.Break(stray, "该记录不属于任何链（在应用之外插入）", attack="inserted"))
    heads = {h.id: h for h in session.scalars(select(AuditHead).execution_options(populate_existing=True))}
    marks: dict[int, tuple[str, rules.HeadMark]] = {}
    for checkpoint in checkpoints:  # oldest first: the newest checkpoint naming a chain wins
        for chain, mark in checkpoint.heads.items():
            marks[chain] = (checkpoint.at, mark)
    chains = set(heads) | set(session.scalars(select(AuditEntry.chain).distinct()).all()) | set(marks)
    for chain in sorted(c for c in chains if c is not None):
        head = heads.get(chain)
        broken = rules.verify_chain(
            chain,
            _rows(session, chain),
            head.last_id if head else 0,
            head.last_hash if head else rules.GENESIS,
            key,
        )
        if broken is not None:
            found.append(broken)
        if chain in marks:
            at, mark = marks[chain]
            by_seq, by_hash, by_id = _positions(session, chain)
            against = rules.check_against_checkpoint(
                chain, mark, at, head.last_id if head else None, by_seq, by_hash, by_id
            )
            if against is not None:
                found.append(against)
    return found


def _positions(
    session: Session, chain: int
) -> tuple[dict[int, tuple[int, str]], dict[str, tuple[int, int]], dict[int, int]]:
    by_seq: dict[int, tuple[int, str]] = {}
    by_hash: dict[str, tuple[int, int]] = {}
    by_id: dict[int, int] = {}
    rows = session.execute(
        select(AuditEntry.id, AuditEntry.seq, AuditEntry.hash)
        .where(AuditEntry.chain == chain)
        .execution_options(yield_per=5000)
    )
    for entry_id, seq, digest in rows:
        if seq is not None:  # a stray row (no position) is named on its own
            by_seq[seq] = (entry_id, digest)
            by_hash[digest] = (entry_id, seq)
            by_id[entry_id] = seq
    return by_seq, by_hash, by_id


def heads(session: Session) -> dict[int, rules.HeadMark]:
    """Every chain head now (position, hash and the newest entry's row id), for a checkpoint."""
    newest: dict[int | None, int] = {}
    joined = AuditHead.id == AuditEntry.chain, AuditHead.last_id == AuditEntry.seq
    for chain, entry_id in session.execute(
        select(AuditEntry.chain, AuditEntry.id).join(AuditHead, and_(*joined))
    ):
        newest[chain] = entry_id
    return {
        head.id: rules.HeadMark(head.last_id, head.last_hash, newest.get(head.id))
        for head in session.scalars(select(AuditHead).order_by(AuditHead.id))
    }


def rekey(session: Session, old_key: bytes | None) -> int:
    """Re-hash every chain under this session's audit key, after checking it under `old_key` (None: the
    unkeyed hashes of a trail written before it was keyed). Refuses a chain that does not verify under the old
    key, so rekeying cannot launder tampering. Returns the number of entries re-hashed."""
    key = chain_key(session)
    heads_now = {h.id: h for h in session.scalars(select(AuditHead))}
    total = 0
    for chain, head in sorted(heads_now.items()):
        rows = list(_rows(session, chain))
        broken = rules.verify_chain(chain, rows, head.last_id, head.last_hash, old_key)
        if broken is not None:
            raise ValueError(f"chain {chain} does not verify under the old key: {broken.describe()}")
        prev = rules.GENESIS
        for row in rows:
            digest = rules.entry_hash(prev, row, key)
            session.execute(
                update(AuditEntry).where(AuditEntry.id == row["id"]).values(prev_hash=prev, hash=digest)
            )
            prev, total = digest, total + 1
        session.execute(update(AuditHead).where(AuditHead.id == chain).values(last_hash=prev))
    session.flush()
    return total


def views_of_subject(session: Session, subject_id: int, limit: int = 200) -> Sequence[AuditEntry]:
    """Who looked at a subject's non-public file (查询记录), newest first."""
    return session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.subject_id == subject_id,
            AuditEntry.action.in_(("subject.view", "subject.view_authorized", "check.run", "report.issue")),
        )
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    ).all()


def search(
    session: Session,
    *,
    action: str | None = None,
    actor: str | None = None,
    department_code: str | None = None,
    subject_id: int | None = None,
    limit: int = 200,
) -> Sequence[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if department_code:
        query = query.where(AuditEntry.department_code == department_code)
    if subject_id:
        query = query.where(AuditEntry.subject_id == subject_id)
    return session.scalars(query).all()


# --- reading the trail (the console's filtered, paged listing and its CSV export) ----------------------


@dataclass(frozen=True)
class TrailFilter:
    """What an auditor narrows the trail to; every part optional. Times are UTC: `since` inclusive, `until`
    exclusive (a day in China time is [00:00, next 00:00) there, converted by the caller)."""

    actor: str | None = None
    action: str | None = None
    department_code: str | None = None
    subject_id: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def conditions(self, *, by_time: bool = False) -> list[Any]:
        # Each part is served by an index of `audit_entries` (actor, action, department, (subject, at), at),
        # and the order (time, then id) by the time index, so a page is an index walk however long the trail.
        # With `by_time` (the filter matches too many entries to sort them all: thousands of logins), the
        # actor, action and department are tested on the entries met walking the time index from the newest
        # instead: as expressions, not columns, no index of theirs tempts SQLite's planner (which has no
        # statistics here) into reading and sorting every match for one page.
        found: list[Any] = []

        def equal(column: Any, value: str) -> Any:
            return (func.coalesce(column, "") if by_time else column) == value

        if self.actor:
            found.append(equal(AuditEntry.actor, self.actor))
        if self.action:
            found.append(equal(AuditEntry.action, self.action))
        if self.department_code:
            found.append(equal(AuditEntry.department_code, self.department_code))
        if self.subject_id is not None:
            found.append(AuditEntry.subject_id == self.subject_id)
        if self.since is not None:
            found.append(AuditEntry.at >= self.since)
        if self.until is not None:
            found.append(AuditEntry.at < self.until)
        return found

    def described(self) -> dict[str, Any]:
        """The filter as audit details (what an export contained)."""
        values = {
            "actor": self.actor,
            "action": self.action,
            "department_code": self.department_code,
            "subject_id": self.subject_id,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {k: v for k, v in values.items() if v is not None}


def trail_page(
    session: Session, trail: TrailFilter, *, page: int = 1, size: int = 50, after_id: int | None = None
) -> Page[AuditEntry]:
    """One page of the filtered trail, newest first, with its total (exact up to `counting.COUNT_BOUND`
    entries, an estimate beyond).

    Newest first is by time (then id), which every filter's index serves: a date range or a subject walks its
    index backwards from the newest entry it holds, where an order by id would walk the whole trail down to
    the range. `after_id` is the last entry of the page before (a keyset cursor): the page starts below it
    without skipping rows, however deep; without it the page is found by offset.
    """
    page, size = clamp(page, size)
    total = counting.bounded_count(
        session, select(AuditEntry.id).where(*trail.conditions()), counting.COUNT_BOUND
    )
    # PostgreSQL's planner weighs the indexes by its statistics; SQLite, without any, is told (`by_time`).
    sqlite = session.get_bind().dialect.name == "sqlite"
    conditions = trail.conditions(by_time=sqlite and not total.exact and trail.subject_id is None)
    query = (
        select(AuditEntry).where(*conditions).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(size)
    )
    cursor = session.scalar(select(AuditEntry.at).where(AuditEntry.id == after_id)) if after_id else None
    if cursor is not None:
        query = query.where(AuditEntry.at <= cursor, or_(AuditEntry.at < cursor, AuditEntry.id < after_id))
    else:
        query = query.offset((page - 1) * size)
    entries = session.scalars(query).all()
    return Page(list(entries), total.value, page, size, exact=total.exact, at_least=total.at_least)


def trail_newest_id(session: Session) -> int:
    """The id of the newest entry (0 for an empty trail): an export reads the trail up to it."""
    return int(session.scalar(select(func.max(AuditEntry.id))) or 0)


def iter_trail(
    session: Session, trail: TrailFilter, *, through_id: int, batch: int = 1000
) -> Iterator[list[AuditEntry]]:
    """The filtered trail up to entry `through_id`, newest first, in batches of at most `batch` entries.

    Each batch is one query that starts below the last id seen (keyset), so memory stays flat and no batch
    re-reads what an OFFSET would skip, however long the trail; entries appended meanwhile are not included.
    """
    below = through_id + 1
    while True:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.id < below, *trail.conditions())
            .order_by(AuditEntry.id.desc())
            .limit(batch)
        ).all()
        if not entries:
            return
        yield list(entries)
        if len(entries) < batch:
            return
        below = entries[-1].id
