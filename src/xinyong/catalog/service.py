"""Loading the catalog: shipped data file, or the credit office's edited copy in the data directory."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from xinyong.catalog.schemas import Catalog, CatalogItem, CatalogItemRead, CatalogRead, FieldRead, FieldSpec
from xinyong.kit.datafiles import ParsedFiles, load_yaml
from xinyong.kit.errors import NotFound, ValidationFailed

OVERRIDE_NAME = "catalog.yaml"


class CatalogError(ValueError):
    """The catalog file is invalid; the message names the item and field."""


def _expand(raw: dict[str, Any]) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = raw.get("field_groups", {})
    items = []
    for item in raw.get("items", []):
        fields: list[dict[str, Any]] = []
        for entry in item.get("fields", []):
            if "include" in entry:
                group = groups.get(entry["include"])
                if group is None:
                    raise CatalogError(f"item {item.get('code')}: unknown field group {entry['include']!r}")
                aliases: dict[str, list[str]] = entry.get("aliases", {})
                for name in aliases:
                    if not any(f["name"] == name for f in group):
                        raise CatalogError(f"item {item.get('code')}: alias for unknown field {name!r}")
                for f in group:
                    fields.append({**f, "alias": [*f.get("alias", []), *aliases.get(f["name"], [])]})
            else:
                fields.append(entry)
        items.append({**item, "fields": fields})
    return {k: v for k, v in raw.items() if k != "field_groups"} | {"items": items}


def parse_catalog(text: str) -> Catalog:
    """Parse and validate catalog YAML; raise CatalogError with a readable location on any problem."""
    try:
        raw = load_yaml(text)
    except yaml.YAMLError as exc:
        raise CatalogError(f"catalog is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise CatalogError("catalog must be a mapping with `version` and `items`")
    try:
        catalog = Catalog.model_validate(_expand(raw))
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(p) for p in first["loc"])
        raise CatalogError(f"catalog invalid at {location}: {first['msg']}") from None
    codes = [i.code for i in catalog.items]
    if len(codes) != len(set(codes)):
        raise CatalogError("catalog has duplicate item codes")
    return catalog


def _shipped() -> str:
    return resources.files("xinyong.catalog").joinpath("data/catalog.yaml").read_text(encoding="utf-8")


class CatalogStore(ParsedFiles[Catalog]):
    """The catalog in force, parsed once per version of its file (the data directory's edited copy, else the
    shipped one). The platform owns one (`Platform.catalog`)."""

    def __init__(self) -> None:
        super().__init__(OVERRIDE_NAME, _shipped, parse_catalog)


def load(data_dir: Path | None = None) -> Catalog:
    """The catalog in force read now (no cache): the data directory's edited copy if present, else the shipped
    one. The platform keeps its parsed catalog in a `CatalogStore`."""
    return CatalogStore().get(data_dir)


def get_item(catalog: Catalog, code: str) -> CatalogItem:
    item = catalog.item(code)
    if item is None:
        raise NotFound(f"目录中没有信息项“{code}”", code="catalog.unknown_item")
    return item


def require_provider(item: CatalogItem, provider_code: str) -> None:
    """Refuse a provider the catalog does not list for the item ("*" admits every department)."""
    if "*" not in item.providers and provider_code not in item.providers:
        raise ValidationFailed(
            f"部门“{provider_code}”不是信息项“{item.name}”的数据提供单位", code="catalog.provider_not_allowed"
        )


def to_read(catalog: Catalog) -> CatalogRead:
    return CatalogRead(
        version=catalog.version,
        effective_from=catalog.effective_from,
        source=catalog.source,
        items=[
            CatalogItemRead(
                code=i.code,
                name=i.name,
                category=i.category,
                subject_kinds=list(i.subject_kinds),
                providers=list(i.providers),
                sharing_class=i.sharing_class.value,
                disclosure_class=i.disclosure_class.value,
                disclosure_rule=i.disclosure_rule,
                legal_basis=i.legal_basis,
                update_frequency=i.update_frequency,
                key=list(i.key),
                fields=[
                    FieldRead(
                        name=f.name,
                        label=f.label,
                        type=f.type,
                        required=f.required,
                        max_length=f.max_length,
                        enum=list(f.enum) if f.enum else None,
                        unit=f.unit,
                        alias=list(f.alias),
                        public=f.public,
                    )
                    for f in i.fields
                ],
            )
            for i in catalog.items
        ],
    )


# --- file templates for departments (one per item; ingestion accepts them as they are) --------------------

TYPE_LABELS = {
    "string": "文本",
    "text": "长文本",
    "date": "日期（如 2026-06-15、2026/6/15、2026年6月15日）",
    "amount": "金额（数字）",
    "integer": "整数",
    "enum": "选项（填写下列允许值之一）",
    "uscc": "统一社会信用代码（18位）",
    "org_code": "组织机构代码（9位）",
    "resident_id": "公民身份号码（18位，不公开）",
    "region": "行政区划代码（6位）",
}
TEMPLATE_NOTES_HEADER = (
    "表头",
    "字段名称",
    "国家标准代码",
    "必填",
    "类型",
    "最大长度",
    "允许值",
    "单位",
    "是否公开",
)


def template_header(spec: FieldSpec) -> str:
    """A template column's header: the field's Chinese name with its national field code, as ingestion reads
    it (`records.rules.HeaderMap`): 行政处罚决定书文号(CF_WSH); the name alone for a field without one."""
    return f"{spec.label}({spec.alias[0]})" if spec.alias else spec.label


def template_headers(item: CatalogItem) -> list[str]:
    """The header row of the item's template: every field, in catalog order."""
    return [template_header(spec) for spec in item.fields]


def template_notes(item: CatalogItem) -> list[list[str]]:
    """What each column holds (name, national code, required, type, length, allowed values, unit), for the
    notes sheet of the XLSX template."""
    rows = []
    for spec in item.fields:
        values = "、".join(spec.enum) if spec.enum else ""
        if spec.enum_aliases:
            values += "（也可填：" + "、".join(spec.enum_aliases) + "）"
        rows.append(
            [
                template_header(spec),
                spec.label,
                "、".join(spec.alias),
                "是" if spec.required and spec.default is None else "否",
                TYPE_LABELS[spec.type],
                str(spec.max_length) if spec.max_length else "",
                values,
                spec.unit or "",
                "是" if spec.public else "否",
            ]
        )
    return rows


def template_csv(item: CatalogItem) -> bytes:
    """The item's CSV template: the header row alone, UTF-8 with a BOM (so Excel shows the Chinese)."""
    from xinyong.kit.tabular import write_csv

    return "".join(write_csv([template_headers(item)])).encode("utf-8")


def template_filename(catalog: Catalog, item: CatalogItem, extension: str) -> str:
    """行政处罚（CF）填报模板-2026.1.csv: the item and the catalog version the template follows."""
    return f"{item.name}（{item.code}）填报模板-{catalog.version}.{extension}"


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def template_xlsx(item: CatalogItem) -> bytes:
    """The item's XLSX template: the first sheet (the one ingestion reads) holds the header row alone, the
    second describes each column (required, type, length, allowed values)."""
    import io

    import openpyxl  # imported here: only template downloads write XLSX
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    from xinyong.kit.tabular import safe_cell

    workbook = openpyxl.Workbook(write_only=True)
    # A sheet's title has at most 31 characters and none of []:*?/\ (an edited catalog may name an item so).
    data = workbook.create_sheet(re.sub(r"[\[\]:*?/\\]", "", item.name)[:31] or item.code)
    data.freeze_panes = "A2"
    headers = template_headers(item)
    for index, header in enumerate(headers, start=1):
        data.column_dimensions[openpyxl.utils.get_column_letter(index)].width = max(12, len(header) * 2)
    bold = Font(bold=True)
    row = []
    for header in headers:
        cell = WriteOnlyCell(data, value=safe_cell(header))
        cell.font = bold
        row.append(cell)
    data.append(row)
    notes = workbook.create_sheet("填报说明")
    notes.append([f"{item.name}（{item.code}）填报说明：第一张表第一行为表头，请勿修改；每行一条记录。"])
    notes.append(list(TEMPLATE_NOTES_HEADER))
    for line in template_notes(item):
        notes.append([safe_cell(v) for v in line])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
