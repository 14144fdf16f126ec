"""Checkpoints of the audit chain heads, signed and kept outside the database (anchoring).

A checkpoint is one line of JSON appended to ``XINYONG_DATA_DIR/audit/checkpoints.jsonl`` (and, when
``XINYONG_AUDIT_ANCHOR_LOG`` names a file — a write-once mount, a remote log's spool — to that file too, and to
the ``xinyong.audit.anchor`` logger, whose handlers may ship it to an external log): the time, every chain's
head (position, hash, newest entry's row id) and an Ed25519 signature by the platform's signing key over
them. Someone who can rewrite the database cannot rewrite the checkpoints too without the signing key, so
`xinyong audit verify` names the newest entries deleted and the head moved back, a whole chain deleted with its
head, and renumbering after a deletion, from the last checkpoint on. Written by the daily job and by
`xinyong audit anchor`; writing one again is harmless (idempotent: a newer line wins).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.orm import Session

from xinyong.audit import rules, service
from xinyong.kit.crypto import Signer, verify_signature

log = logging.getLogger(__name__)

CHECKPOINT_FILE = Path("audit") / "checkpoints.jsonl"


def verifying_keys(signer: Signer) -> list[str]:
    """The public keys (base64) a checkpoint may be signed with: the signing key's and, after a rotation, the
    retired keys' (a signer that lists them has `public_keys()`)."""
    listed = getattr(signer, "public_keys", None)
    if callable(listed):
        return [str(k["public_key"]) for k in listed()]
    return [signer.public_key_b64]


def checkpoint_path(data_dir: Path) -> Path:
    return data_dir / CHECKPOINT_FILE


def payload(at: dt.datetime, heads: dict[int, rules.HeadMark]) -> dict[str, Any]:
    """The signed content of a checkpoint (JSON-able, no floats)."""
    return {
        "at": at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "heads": {
            str(chain): {"seq": mark.seq, "hash": mark.hash, "entry_id": mark.entry_id}
            for chain, mark in sorted(heads.items())
        },
    }


def write_checkpoint(session: Session, signer: Signer, data_dir: Path, *, copy_to: Path | None = None) -> int:
    """Append a signed checkpoint of every chain head now; returns the number of chains it covers."""
    content = payload(dt.datetime.now(dt.UTC), service.heads(session))
    line = orjson.dumps(
        {**content, "public_key": signer.public_key_b64, "signature": signer.sign(content)}
    ).decode()
    for path in (checkpoint_path(data_dir), copy_to):
        if path is None:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")
            out.flush()
    log.info("audit checkpoint %s", line)
    return len(content["heads"])


@dataclass(frozen=True, slots=True)
class Loaded:
    """Checkpoints whose signature verifies (oldest first), and the line numbers of those that do not."""

    checkpoints: list[service.Checkpoint]
    forged: list[int]


def load(lines: Iterable[str], public_keys: Iterable[str]) -> Loaded:
    """Parse checkpoint lines; a line not signed by one of `public_keys` is reported, never trusted."""
    keys = tuple(public_keys)
    checkpoints: list[service.Checkpoint] = []
    forged: list[int] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
            content = {"at": data["at"], "heads": data["heads"]}
            signed = any(verify_signature(k, content, data["signature"]) for k in keys)
            heads = {
                int(chain): rules.HeadMark(int(h["seq"]), str(h["hash"]), h["entry_id"])
                for chain, h in content["heads"].items()
            }
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            signed = False
        if not signed:
            forged.append(number)
            continue
        checkpoints.append(service.Checkpoint(at=str(content["at"]), heads=heads))
    return Loaded(checkpoints, forged)


def load_file(data_dir: Path, public_keys: Iterable[str]) -> Loaded | None:
    """The checkpoints in the data directory, or None when none was ever written."""
    path = checkpoint_path(data_dir)
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as lines:
        return load(lines, public_keys)


def verify(session: Session, loaded: Loaded | None) -> list[rules.Break]:
    """Every finding: forged checkpoint lines, then the chains checked and compared with the checkpoints."""
    found = [
        rules.Break(None, f"检查点文件第{n}行的签名无效", attack="checkpoint_forged")
        for n in (loaded.forged if loaded else [])
    ]
    return found + service.findings(session, loaded.checkpoints if loaded else ())
