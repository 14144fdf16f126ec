"""The catalog loads, validates and refuses broken definitions with a readable location."""

from __future__ import annotations

import pytest

from xinyong.catalog import service

REQUIRED_ITEMS = {"DJ", "XK", "CF", "QZ", "JC", "QR", "JL", "SXBZX", "JYYC", "QS", "QJSB", "CN"}
CF_CODES = (
    "CF_WSH CF_XDR_MC CF_XDR_LB CF_XDR_SHXYM CF_XDR_GSZC CF_XDR_ZZJG CF_FRDB CF_FR_ZJLX CF_FR_ZJHM CF_XDR_ZJLX "
    "CF_XDR_ZJHM CF_WFXW CF_SY CF_YJ CF_CFLB CF_NR CF_NR_FK CF_NR_WFFF CF_NR_ZKDX CF_JDRQ CF_YXQ CF_GSJZQ CF_CFJG "
    "CF_CFJGDM CF_SJLY CF_SJLYDM BZ"
).split()
XK_CODES = (
    "XK_XKWS XK_WSH XK_XKLB XK_XKZS XK_XKBH XK_NR XK_XDR_MC XK_XDR_LB XK_XDR_SHXYM XK_FRDB XK_FR_ZJLX XK_FR_ZJHM "
    "XK_XDR_ZJLX XK_XDR_ZJHM XK_JDRQ XK_YXQZ XK_YXQZI XK_XKJG XK_XKJGDM XK_ZT XK_LYDW XK_LYDWDM BZ"
).split()


def test_shipped_catalog_has_every_required_item_with_legal_basis() -> None:
    catalog = service.load()
    assert {i.code for i in catalog.items} >= REQUIRED_ITEMS
    assert all(len(i.legal_basis) > 4 for i in catalog.items)


@pytest.mark.parametrize(("item", "codes"), [("CF", CF_CODES), ("XK", XK_CODES)])
def test_double_publicity_items_accept_every_national_field_code(item: str, codes: list[str]) -> None:
    spec = service.load().item(item)
    assert spec is not None
    aliases = {a for f in spec.fields for a in f.alias}
    assert set(codes) <= aliases


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "mapping"),
        ("version: '1'\neffective_from: 2026-01-01\nsource: s\nitems:\n  - code: cf\n", "items.0"),
        (
            "version: '1'\neffective_from: 2026-01-01\nsource: s\nitems:\n  - {code: X, fields: [{include: nope}]}\n",
            "unknown field group",
        ),
    ],
)
def test_broken_catalogs_are_refused_with_a_location(text: str, message: str) -> None:
    with pytest.raises(service.CatalogError, match=message):
        service.parse_catalog(text)


def test_an_item_without_legal_basis_cannot_be_saved() -> None:
    text = """
version: '1'
effective_from: 2026-01-01
source: s
items:
  - code: X
    name: n
    category: c
    subject_kinds: [legal_person]
    providers: ["*"]
    sharing_class: unconditional
    disclosure_class: public
    disclosure_rule: {kind: permanent}
    legal_basis: ""
    update_frequency: daily
    key: []
    date_field: d
    fields: [{name: d, label: 日期, type: date}]
"""
    with pytest.raises(service.CatalogError, match="legal_basis"):
        service.parse_catalog(text)
