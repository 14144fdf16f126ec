"""File downloads: always an attachment (never rendered by the browser), with the real name kept."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Response


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback name and the real (e.g. Chinese) name as RFC 5987 ``filename*``."""
    fallback = "".join(
        ch if ch.isascii() and ch.isprintable() and ch not in '"\\;' else "_" for ch in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def attachment(content: bytes, filename: str, content_type: str) -> Response:
    """A stored file as a private, uncached attachment of its checked type (nosniff)."""
    return Response(
        content,
        media_type=content_type,
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
