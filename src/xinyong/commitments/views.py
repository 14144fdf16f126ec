"""Commitment pages: a published commitment on the portal."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
