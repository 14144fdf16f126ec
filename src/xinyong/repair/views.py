"""Repair pages: the subject's applications and notices (portal), the department queue and re-checks (console)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
