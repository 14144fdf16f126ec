"""Loading the measure list: the shipped data file, or a stored version's document, validated against the catalog."""

from __future__ import annotations

from collections.abc import Collection
from importlib import resources
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from xinyong.measures.schemas import ITEM_CODES, MeasureList

SHIPPED = "data/measures.yaml"


class MeasureListError(ValueError):
    """The measure list is invalid; the message names the measure and field."""


def validate_document(raw: Any, item_codes: Collection[str]) -> MeasureList:
    """Validate an already-parsed measure list (a YAML or stored JSON document) against the catalog's items."""
    if not isinstance(raw, dict):
        raise MeasureListError(
            "measure list must be a mapping with `version`, `scenarios`, `actions` and `measures`"
        )
    try:
        return MeasureList.model_validate(raw, context={ITEM_CODES: frozenset(item_codes)})
    except ValidationError as exc:
        errors = _root_causes(exc)
        first = errors[0]
        location = ".".join(str(p) for p in first["loc"])
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        at = f" at {location}" if location else ""  # model-level errors name their location themselves
        message = first["msg"].removeprefix("Value error, ")
        raise MeasureListError(f"measure list invalid{at}: {message}{more}") from None


def _root_causes(exc: ValidationError) -> list[ErrorDetails]:
    """Drop errors that only echo a deeper one (a tuple left too short because its element failed)."""
    errors = exc.errors()
    locations = [e["loc"] for e in errors]
    return [
        e
        for e in errors
        if not any(len(other) > len(e["loc"]) and other[: len(e["loc"])] == e["loc"] for other in locations)
    ] or errors


def parse_measure_list(text: str, item_codes: Collection[str]) -> MeasureList:
    """Parse and validate measure list YAML; raise MeasureListError with a readable location on any problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MeasureListError(f"measure list is not valid YAML: {exc}") from None
    return validate_document(raw, item_codes)


def load_shipped(item_codes: Collection[str]) -> MeasureList:
    """The measure list shipped with the package, checked against the given catalog item codes.

    Read when a store has no published list yet (once per store); not kept: the parsed lists a process keeps
    are the platform's (`repository.PublishedLists`)."""
    text = resources.files("xinyong.measures").joinpath(SHIPPED).read_text(encoding="utf-8")
    return parse_measure_list(text, item_codes)
