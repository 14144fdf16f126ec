"""Notice pages: a subject's inbox (修复告知书 and decisions) and a department's notices."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
