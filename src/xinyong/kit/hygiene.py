"""Input hygiene: text no store can hold — NUL characters and lone surrogates — found before it reaches one.

PostgreSQL refuses NUL in text and JSONB (a statement fails: a 500 where a clear refusal belongs), and a lone
surrogate (U+D800–U+DFFF alone, as JSON's `\\ud800` escape gives) cannot be encoded as UTF-8 at all. SQLite
stores both, and a NUL in a LIKE pattern ends it early (a search for `%00` matched every subject). So such
text is refused at the edge: a 422 `input.invalid_characters` for a request, a rejected row for a file cell.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

CODE = "input.invalid_characters"
MESSAGE = "输入含有不允许的字符（空字符 NUL 或不成对的代理码位）"
CELL_MESSAGE = "单元格含有不允许的字符（空字符 NUL 或不成对的代理码位）"
REPLACEMENT = "\ufffd"

_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
# A JSON document can only carry NUL or a surrogate as a \u escape (a raw control character is invalid JSON
# and a surrogate is not valid UTF-8): documents without such an escape are let through unparsed.
_JSON_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


def bad_text(value: str) -> bool:
    """True if the text holds a NUL or a lone surrogate (a surrogate pair decoded from JSON is one character,
    so only lone ones are left)."""
    return _BAD_TEXT.search(value) is not None


def clean_text(value: str) -> str:
    """The text with each NUL and lone surrogate replaced by U+FFFD, to keep a rejected row storable."""
    return _BAD_TEXT.sub(REPLACEMENT, value)


def bad_urlencoded(data: bytes) -> bool:
    """True if a query string or form body (application/x-www-form-urlencoded) decodes to a NUL, or to
    bytes that are not UTF-8 (an encoded surrogate, ED A0 80, is not)."""
    if b"%" not in data and b"\x00" not in data and data.isascii():
        return False
    decoded = unquote_to_bytes(data.replace(b"+", b" "))
    if b"\x00" in decoded:
        return True
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def bad_json(body: bytes) -> bool:
    """True if a JSON document holds, in a key or a string, a NUL or a lone surrogate. A document that is not
    JSON is left to the JSON parser's own error."""
    if _JSON_ESCAPE.search(body) is None:
        return False
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to read: the app's parser refuses it
        return False
    return _bad_value(document)


def _bad_value(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if bad_text(item):
                return True
        elif isinstance(item, dict):
            for key, child in item.items():
                if bad_text(key):
                    return True
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
    return False
