"""Objection pages: filing on the portal, the subject's history, the department queue and answers (console)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
