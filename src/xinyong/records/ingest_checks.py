"""Ingestion's checking half: each chunk of rows validated without the database (`rules.py`), except rows sent
again exactly as their record's current version was made from (recognised by the raw-row digest, asked one
chunk ahead) — those are counted unchanged. Runs on the calling thread while `ingest_store` stores the chunk
before on the ingest's database thread (`records.service.ingest`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from xinyong.catalog.schemas import CatalogItem
from xinyong.kit import hygiene
from xinyong.kit.crypto import PersonalIdCipher
from xinyong.kit.errors import ValidationFailed
from xinyong.kit.identifiers import mask_embedded_ids, mask_resident_id
from xinyong.kit.tabular import INVALID_CELLS, Row
from xinyong.records import rules

if TYPE_CHECKING:
    from xinyong.records.service import IngestContext


@dataclass(slots=True)
class Valid:
    row_number: int
    result: rules.RowResult
    key: str
    digest: str
    raw_digest: str | None = None  # of the submitted row (`rules.raw_row`), when it came from one


@dataclass(slots=True)
class Checked:
    """A validated chunk: what the database part needs, worked out without it."""

    valid: list[Valid]
    rejected: list[dict[str, Any]]
    unchanged: int = 0  # rows sent again exactly as the current version of their record was made from


def checked_chunks(
    ctx: IngestContext,
    item: CatalogItem,
    provider_code: str,
    rows: Iterator[Row],
    chunk_size: int,
    known: Callable[[set[str]], Future[dict[str, str]]],
) -> Iterator[tuple[int, Checked]]:
    """Read and validate chunk by chunk, yielding each chunk's row count and result.

    The one database question, which of a chunk's raw-row digests are those of current records (`known`), is
    asked one chunk ahead: as soon as the chunk is read, before the chunk before it is validated and handed
    over to be stored. The database thread answers it between two stores, so the answer is there when this
    thread needs it; it does not yet show what the chunk before stores, which `_check_chunk` allows for."""
    chunk = list(islice(rows, chunk_size))
    if not chunk:
        return
    header_map = rules.HeaderMap(item, list(chunk[0].values))
    if header_map.missing_required:
        labels = [item.field(n).label for n in header_map.missing_required]  # type: ignore[union-attr]
        raise ValidationFailed(
            f"文件缺少必填列：{'、'.join(labels)}",
            code="file.missing_columns",
            details={"missing": header_map.missing_required, "unknown_headers": header_map.unknown},
        )

    def ask(chunk: list[Row]) -> tuple[list[Row], list[str], Future[dict[str, str]]]:
        digests = [
            ctx.cipher.digest(rules.raw_row(version, item.code, provider_code, r.values)) for r in chunk
        ]
        return chunk, digests, known(set(digests))

    version = ctx.catalog.version
    asked: tuple[list[Row], list[str], Future[dict[str, str]]] | None = ask(chunk)
    in_flight: set[str] = set()  # natural keys the chunk before may change: not yet stored when asked
    failure: Exception | None = None
    while asked is not None:
        chunk, digests, answer = asked
        try:
            following = list(islice(rows, chunk_size))
        except Exception as exc:  # the file fails further on: the chunk in hand is still checked and stored
            failure, following = exc, []
        asked = ask(following) if following else None
        checked = _check_chunk(
            ctx, item, provider_code, header_map, chunk, digests, answer.result(), in_flight
        )
        in_flight = {v.key for v in checked.valid}
        yield len(chunk), checked
    if failure is not None:
        raise failure


def _check_chunk(
    ctx: IngestContext,
    item: CatalogItem,
    provider_code: str,
    header_map: rules.HeaderMap,
    chunk: list[Row],
    raw_digests: list[str],
    current: dict[str, str],
    in_flight: set[str],
) -> Checked:
    """Validate the chunk's rows, except those sent before exactly as their record's current version was made
    from (daily full files): those are counted unchanged without being validated, hashed or resolved again.
    `current` maps those of the chunk's raw-row digests that were current when asked to their records' natural
    keys; `in_flight` holds the keys the chunk before may change, which the answer does not show yet."""
    checked = Checked(valid=[], rejected=[])
    set_aside: list[tuple[Row, str, str]] = []
    for row, raw_digest in zip(chunk, raw_digests, strict=True):
        key = current.get(raw_digest)
        if key is None:
            _check_row(ctx, item, provider_code, header_map, row, raw_digest, checked)
        else:
            set_aside.append((row, raw_digest, key))
    # Another row of this chunk, or of the chunk before (not yet stored when `current` was asked), changes the
    # same record: file order decides between them (`ingest_store.store` keeps the last row of each record), so the
    # set-aside row takes the full path too.
    changed = in_flight | {v.key for v in checked.valid}
    again = [(row, raw_digest) for row, raw_digest, key in set_aside if key in changed]
    for row, raw_digest in again:
        _check_row(ctx, item, provider_code, header_map, row, raw_digest, checked)
    if again:
        checked.valid.sort(key=lambda v: v.row_number)
        checked.rejected.sort(key=lambda r: r["row_number"])
    checked.unchanged = len(set_aside) - len(again)
    return checked


def _check_row(
    ctx: IngestContext,
    item: CatalogItem,
    provider_code: str,
    header_map: rules.HeaderMap,
    row: Row,
    raw_digest: str,
    checked: Checked,
) -> None:
    result = rules.validate_row(item, header_map.apply(row.values), today=ctx.today)
    if "__extra__" in row.values:
        result.errors.append(rules.FieldError("", "file.extra_cells", "该行单元格数多于表头列数"))
    for column in row.values.get(INVALID_CELLS, ()):  # replaced by U+FFFD when read (kit.tabular)
        result.errors.append(rules.FieldError(column, hygiene.CODE, hygiene.CELL_MESSAGE))
    if result.ok:
        hash_id = ctx.cipher.hash
        key = rules.natural_key(item, provider_code, result, hash_id)
        checked.valid.append(Valid(row.number, result, key, rules.content_hash(result, hash_id), raw_digest))
        return
    masked, secret = _mask_raw(item, header_map, row.values, ctx.cipher)
    checked.rejected.append(
        {
            "row_number": row.number,
            "errors": [e.as_dict() for e in result.errors],
            "raw": masked,
            "raw_sensitive": secret,
        }
    )


def _mask_raw(
    item: CatalogItem, header_map: rules.HeaderMap, raw: dict[str, Any], cipher: PersonalIdCipher
) -> tuple[dict[str, Any], dict[str, str] | None]:
    masked: dict[str, Any] = {}
    secret: dict[str, str] = {}
    for header, value in raw.items():
        spec = item.field(header_map.mapping.get(header, ""))
        text = "" if value is None else str(value) if not isinstance(value, dt.date) else value.isoformat()
        if spec is not None and spec.sensitive and text.strip():
            secret[header] = cipher.encrypt(text)
            masked[header] = mask_resident_id(text.strip())
            continue
        text = text[: rules.MAX_CELL_CHARS]
        # A personal ID in the wrong column or in free text is personal data all the same.
        hidden, found = mask_embedded_ids(text)
        if found:
            secret[header] = cipher.encrypt(text)
        masked[header] = hidden
    return masked, secret or None
