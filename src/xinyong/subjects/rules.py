"""Pure rules for subjects: their kinds, who a row claims it is about, a subject's public summary."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from xinyong.kit import regions
from xinyong.kit.identifiers import mask_person_name

KIND_LABELS = {
    "legal_person": "法人和非法人组织",
    "individual_business": "个体工商户",
    "natural_person": "自然人",
    "gov_body": "政府机构",
}


@dataclass(frozen=True, slots=True)
class SubjectClaim:
    """Who a row is about, as far as the row itself tells."""

    kind: str
    name: str
    name_norm: str
    region_code: str | None
    uscc: str | None = None
    resident_id: str | None = None
    business_reg_no: str | None = None
    org_code: str | None = None
    legal_rep: str | None = None

    def identity(self, hash_id: Callable[[str], str]) -> str:
        """A stable identity string for the natural key: the strongest identifier the row carries."""
        if self.uscc:
            return f"uscc:{self.uscc}"
        if self.resident_id:
            return f"rid:{hash_id(self.resident_id)}"
        if self.business_reg_no:
            return f"regno:{self.business_reg_no}"
        if self.org_code:
            return f"org:{self.org_code}"
        return f"name:{self.name_norm}|{self.region_code or ''}"


# Kinds whose legal representative (法定代表人) the registration publishes; an individual business's operator
# (经营者) is a person whose name is not public, whatever its trade name (字号).
NAMED_REPRESENTATIVE_KINDS = frozenset({"legal_person", "gov_body"})


def public_person(subject_kind: str, name: str | None) -> str | None:
    """A person's name tied to a subject as the public reads it: masked unless the subject is an organisation."""
    if not name or subject_kind in NAMED_REPRESENTATIVE_KINDS:
        return name
    return mask_person_name(name)


def summary(subject: Any, *, public: bool = False) -> dict[str, Any]:
    """A subject's basic facts; ``public``: as the public reads them (an individual business's operator masked)."""
    return {
        "uscc": subject.uscc,
        "name": subject.name,
        "kind": subject.kind,
        "kind_label": KIND_LABELS.get(subject.kind, subject.kind),
        "region_code": subject.region_code,
        "region_name": regions.name(subject.region_code) if subject.region_code else "",
        "legal_rep": public_person(subject.kind, subject.legal_rep) if public else subject.legal_rep,
        "registered_on": subject.registered_on,
        "operating_status": subject.operating_status,
    }
