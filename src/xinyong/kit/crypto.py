"""Keys and primitives for personal identifiers: a keyed hash for look-up, Fernet encryption for display."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from functools import cached_property

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive_key(secret: str, purpose: str, length: int = 32) -> bytes:
    """Derive an independent sub-key for one purpose from the platform secret (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"xinyong", info=purpose.encode()).derive(
        secret.encode()
    )


@dataclass(frozen=True)
class PersonalIdCipher:
    """Hashes and encrypts personal identifiers. Build one per process from settings."""

    hash_key: bytes
    fernet: MultiFernet

    @classmethod
    def from_secrets(cls, secret_key: str, pii_keys: str | None, id_hash_key: str | None) -> PersonalIdCipher:
        hash_key = id_hash_key.encode() if id_hash_key else derive_key(secret_key, "id-hash")
        if pii_keys:
            keys = [Fernet(k.strip().encode()) for k in pii_keys.split(",") if k.strip()]
        else:
            keys = [Fernet(base64.urlsafe_b64encode(derive_key(secret_key, "pii-encryption")))]
        return cls(hash_key=hash_key, fernet=MultiFernet(keys))

    def hash(self, value: str) -> str:
        """Keyed hash (HMAC-SHA256, hex) used to find a person without storing the number."""
        return hmac.new(self.hash_key, value.encode(), hashlib.sha256).hexdigest()

    def digest(self, data: bytes) -> str:
        """Keyed digest (BLAKE2b-128, hex) of content that may hold personal identifiers: equal content gives
        equal digests, and without the key an identifier cannot be guessed from one."""
        return hashlib.blake2b(data, key=self._digest_key, digest_size=16, person=b"xinyong-rows").hexdigest()

    @cached_property
    def _digest_key(self) -> bytes:
        return hashlib.blake2b(self.hash_key, digest_size=32, person=b"xinyong-rowkey").digest()

    def encrypt(self, value: str) -> str:
        return self.fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self.fernet.decrypt(token.encode()).decode()

    def rotate(self, token: str) -> str:
        """Re-encrypt a value under the newest key (key rotation)."""
        return self.fernet.rotate(token.encode()).decode()


@dataclass(frozen=True)
class Signer:
    """Ed25519 signatures over canonical JSON, so a check result can be verified later by anyone."""

    private_key: Ed25519PrivateKey

    @classmethod
    def from_secret(cls, secret_key: str, signing_seed: str | None = None) -> Signer:
        seed = base64.b64decode(signing_seed) if signing_seed else derive_key(secret_key, "check-signing")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @staticmethod
    def canonical(payload: object) -> bytes:
        """The bytes signed: JSON with sorted keys, no whitespace, UTF-8 — what
        `json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()` gives, for the
        values a signed payload holds (strings, integers, booleans, null, lists and objects; no floats), written
        by orjson at a tenth of the cost (a property test keeps the two equal)."""
        return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)

    def sign(self, payload: object) -> str:
        return base64.b64encode(self.private_key.sign(self.canonical(payload))).decode()

    @cached_property
    def public_key_b64(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode()

    @property
    def public_key_pem(self) -> str:
        return (
            self.private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )


def verify_signature(public_key_b64: str, payload: object, signature_b64: str) -> bool:
    """True if `signature_b64` is the platform's Ed25519 signature over the payload's canonical JSON."""
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    try:
        key.verify(base64.b64decode(signature_b64), Signer.canonical(payload))
    except (InvalidSignature, ValueError):
        return False
    return True
