"""Check signatures: the canonical bytes signed, and verification (rules, no database)."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from xinyong.kit.crypto import Signer, verify_signature

SIGNER = Signer.from_secret("test-secret-key")

# What a signed payload holds: text (any Unicode scalar value, control characters included), 64-bit integers,
# booleans, null, and lists and objects of them.
_SCALARS = (
    st.text(alphabet=st.characters(exclude_categories=["Cs"]))
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.booleans()
    | st.none()
)
PAYLOADS = st.recursive(
    _SCALARS,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


def reference_canonical(payload: Any) -> bytes:
    """The canonical form as first specified (and as a verifier outside the platform may write it)."""
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


@given(PAYLOADS)
def test_canonical_bytes_are_the_specified_ones(payload: Any) -> None:
    assert Signer.canonical(payload) == reference_canonical(payload)


@given(st.dictionaries(st.text(max_size=8), PAYLOADS, min_size=1, max_size=6))
def test_a_signature_verifies_and_any_change_breaks_it(payload: dict[str, Any]) -> None:
    signature = SIGNER.sign(payload)
    assert verify_signature(SIGNER.public_key_b64, payload, signature)
    changed = {**payload, "\x00extra": 1}
    assert not verify_signature(SIGNER.public_key_b64, changed, signature)


def test_a_check_result_signed_before_still_verifies() -> None:
    # A signature made over the reference bytes (as stored checks were signed) verifies with today's code.
    result = {
        "check_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "checked_at": "2026-11-28T09:30:00+00:00",
        "department": "SCCZ",
        "scenario": "government_procurement",
        "scenario_name": "政府采购",
        "purpose": "政府采购供应商资格审查\n（第2批）",
        "asked": {"uscc": "91510100MA61X0AB3C"},
        "subject": None,
        "measure_list_version": "2026.1",
        "hits": [{"measure": "P01", "legal_basis": "《政府采购法》第二十二条", "trigger": {"id": 7}}],
    }
    legacy = base64.b64encode(SIGNER.private_key.sign(reference_canonical(result))).decode()
    assert SIGNER.sign(result) == legacy  # Ed25519 is deterministic: same bytes, same signature
    assert verify_signature(SIGNER.public_key_b64, result, legacy)
    assert not verify_signature(SIGNER.public_key_b64, {**result, "purpose": "其他"}, legacy)
