"""Keys and primitives for personal identifiers: a keyed hash for look-up, Fernet encryption for display."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

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


SIGNING_KEY_FILE_HEADER = (
    "# xinyong signing keys (Ed25519), one per line: `private <base64 seed>` or `public <base64 key>`.\n"
    "# The first private key signs; every key listed verifies, so signatures made before a rotation still do.\n"
)


def key_id(public_key: Ed25519PublicKey) -> str:
    """A key's id: the first 16 hex digits of the SHA-256 of its raw public bytes (derived, never configured,
    so an id cannot name the wrong key)."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _public_b64(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


class SigningKeyError(ValueError):
    """A signing key file that cannot be used (unreadable, malformed, no private key)."""


@dataclass(frozen=True)
class Signer:
    """Ed25519 signatures over canonical JSON, so a check result can be verified later by anyone.

    `private_key` signs; `retired` are the public keys of keys that signed before a rotation: they still
    verify, and are published with their key ids (`public_keys`)."""

    private_key: Ed25519PrivateKey
    retired: tuple[Ed25519PublicKey, ...] = ()

    @classmethod
    def from_secret(cls, secret_key: str, signing_seed: str | None = None) -> Signer:
        seed = base64.b64decode(signing_seed) if signing_seed else derive_key(secret_key, "check-signing")
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def from_key_file(cls, path: Path) -> Signer:
        """The signer of a key file (`SIGNING_KEY_FILE_HEADER`): its first private key signs, the others
        (private or public) only verify."""
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise SigningKeyError(f"cannot read signing key file {path}: {exc.strerror}") from None
        private: list[Ed25519PrivateKey] = []
        public: list[Ed25519PublicKey] = []
        for number, line in enumerate(text.splitlines(), start=1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            try:
                kind, value = words
                raw = base64.b64decode(value, validate=True)
                if kind == "private":
                    private.append(Ed25519PrivateKey.from_private_bytes(raw))
                elif kind == "public":
                    public.append(Ed25519PublicKey.from_public_bytes(raw))
                else:
                    raise ValueError(kind)
            except ValueError:
                raise SigningKeyError(
                    f"{path}, line {number}: expected `private|public <base64 32 bytes>`"
                ) from None
        if not private:
            raise SigningKeyError(f"{path} holds no private key")
        current, *others = private
        retired = [k.public_key() for k in others] + public
        current_id = key_id(current.public_key())
        return cls(current, tuple(k for k in retired if key_id(k) != current_id))

    @staticmethod
    def generate_key_file_line() -> str:
        """A `private <seed>` line for a fresh key."""
        seed = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return f"private {base64.b64encode(seed).decode()}"

    def rotated_key_file(self) -> str:
        """The text of a key file whose new key signs and whose current and retired keys verify (as public
        keys only: a retired private key is never needed again)."""
        lines = [self.generate_key_file_line()]
        lines += [f"public {_public_b64(k)}" for k in (self.private_key.public_key(), *self.retired)]
        return SIGNING_KEY_FILE_HEADER + "\n".join(lines) + "\n"

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
    def key_id(self) -> str:
        """The id of the key that signs now."""
        return key_id(self.private_key.public_key())

    @cached_property
    def public_key_b64(self) -> str:
        return _public_b64(self.private_key.public_key())

    @property
    def public_key_pem(self) -> str:
        return _pem(self.private_key.public_key())

    @cached_property
    def _verifying_keys(self) -> dict[str, Ed25519PublicKey]:
        keys = {self.key_id: self.private_key.public_key()}
        for retired in self.retired:
            keys.setdefault(key_id(retired), retired)
        return keys

    def public_keys(self) -> list[dict[str, object]]:
        """Every key that verifies, the signing one first: id, raw base64, PEM, and whether it signs now."""
        return [
            {"key_id": kid, "public_key": _public_b64(key), "pem": _pem(key), "current": kid == self.key_id}
            for kid, key in self._verifying_keys.items()
        ]

    def signed_by(self, payload: object, signature_b64: str, key: str | None = None) -> str | None:
        """The id of the platform key whose signature over the payload this is (only `key`, if given), or None."""
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except ValueError:
            return None
        try:
            data = self.canonical(payload)
        except orjson.JSONEncodeError:  # not a payload the platform signs (a float, a huge integer...)
            return None
        for kid, public in self._verifying_keys.items():
            if key is not None and kid != key:
                continue
            try:
                public.verify(signature, data)
            except InvalidSignature:
                continue
            return kid
        return None

    def verify(self, payload: object, signature_b64: str, key: str | None = None) -> bool:
        """True if the signature is the platform's, by its signing key or a retired one."""
        return self.signed_by(payload, signature_b64, key) is not None


def _pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def verify_signature(public_key_b64: str, payload: object, signature_b64: str) -> bool:
    """True if `signature_b64` is the platform's Ed25519 signature over the payload's canonical JSON."""
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
    try:
        key.verify(base64.b64decode(signature_b64), Signer.canonical(payload))
    except (InvalidSignature, ValueError):
        return False
    return True
