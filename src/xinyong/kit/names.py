"""Chinese name normalisation for matching. Names are always stored and shown as submitted."""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import opencc

# Legal-form suffixes, longest first, so that 股份有限公司 is stripped before 有限公司.
LEGAL_FORM_SUFFIXES: tuple[str, ...] = tuple(
    sorted(
        {
            "集团股份有限公司",
            "集团有限责任公司",
            "集团有限公司",
            "股份有限公司",
            "有限责任公司",
            "股份合作公司",
            "有限公司",
            "(有限合伙)",
            "(普通合伙)",
            "(特殊普通合伙)",
            "合伙企业",
            "个人独资企业",
            "农民专业合作社",
            "专业合作社",
            "公司",
        },
        key=len,
        reverse=True,
    )
)
# A legal form written in brackets, as people sometimes type it: 某某科技(有限公司).
LEGAL_FORM_SUFFIXES = tuple(
    sorted(
        {*LEGAL_FORM_SUFFIXES, *(f"({s})" for s in LEGAL_FORM_SUFFIXES if not s.startswith("("))},
        key=len,
        reverse=True,
    )
)
_DROP = re.compile(r"[\s\u3000·・.,，。、\-—_'\"“”‘’]+")


@cache
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


@lru_cache(maxsize=1 << 16)
def normalize_name(name: str) -> str:
    """Fold width (NFKC), traditional to simplified (OpenCC t2s), case, spacing, punctuation and brackets.
    Cached: a file names the same subjects again and again."""
    text = unicodedata.normalize("NFKC", name)  # full-width （） become ()
    text = _t2s().convert(text)
    text = text.replace("[", "(").replace("]", ")").replace("【", "(").replace("】", ")")
    return _DROP.sub("", text).lower()


def core_name(normalized: str) -> str:
    """The normalised name without its legal-form suffix (and any trailing suffix chain such as 分公司 stays)."""
    text = normalized
    changed = True
    while changed:
        changed = False
        for suffix in LEGAL_FORM_SUFFIXES:
            if suffix == "公司" and text.endswith("分公司"):
                break  # a branch (分公司) keeps its name: ...有限公司武侯分公司 is not ...武侯分
            if text.endswith(suffix) and len(text) > len(suffix) + 1:
                text = text[: -len(suffix)]
                changed = True
                break
    return text
