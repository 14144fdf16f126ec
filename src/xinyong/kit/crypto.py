"""Keys and primitives for personal identifiers: a keyed hash for look-up, Fernet encryption for display."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
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

    def encrypt(self, value: str) -> str:
        return self.fernet.encrypt(value.encode()).decode()

    def decrypt(self, token: str) -> str:
        return self.fernet.decrypt(token.encode()).decode()

    def rotate(self, token: str) -> str:
        """Re-encrypt a value under the newest key (key rotation)."""
        return self.fernet.rotate(token.encode()).decode()
