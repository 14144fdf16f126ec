"""Pure presentation rules for subjects and their public records."""

from __future__ import annotations

import datetime as dt
from typing import Any

from xinyong.catalog.schemas import Catalog
from xinyong.disclosure.rules import is_public_now
from xinyong.kit import regions
from xinyong.records.rules import KIND_LABELS


def summary(subject: Any) -> dict[str, Any]:
    return {
        "uscc": subject.uscc,
        "name": subject.name,
        "kind": subject.kind,
        "kind_label": KIND_LABELS.get(subject.kind, subject.kind),
        "region_code": subject.region_code,
        "region_name": regions.name(subject.region_code) if subject.region_code else "",
        "legal_rep": subject.legal_rep,
        "registered_on": subject.registered_on,
        "operating_status": subject.operating_status,
    }


def public_fields(catalog: Catalog, record: Any) -> dict[str, Any]:
    """A record's fields as published: only fields the catalog marks public, personal IDs never in clear."""
    item = catalog.item(record.item_code)
    if item is None:
        return {}
    return {f.name: record.fields[f.name] for f in item.fields if f.public and f.name in record.fields}


def record_read(
    catalog: Catalog, record: Any, today: dt.date, *, under_objection: bool = False
) -> dict[str, Any]:
    item = catalog.item(record.item_code)
    return {
        "id": record.id,
        "item": record.item_code,
        "item_name": item.name if item else record.item_code,
        "provider": record.provider_code,
        "doc_no": record.doc_no,
        "version": record.version,
        "status": record.status,
        "decision_date": record.decision_date,
        "severity": record.severity,
        "public_from": record.public_from,
        "public_until": record.public_until,
        "public_now": is_public_now(
            status=record.status,
            public_from=record.public_from,
            public_until=record.public_until,
            today=today,
        ),
        "fields": public_fields(catalog, record),
        "under_objection": under_objection,
    }
