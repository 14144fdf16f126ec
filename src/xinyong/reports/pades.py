"""The reports' PDF signature (PAdES, pyHanko) with the platform's certificate, and its verification.

Production loads the province's certificate and key (PEM) from configured paths; without them a self-signed
demo certificate (ECDSA P-256) is generated into the data directory on first use, its key readable by the
owner alone (0600). Verification trusts that certificate only and requires the signature to cover the
whole file, so one changed byte anywhere fails it.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID

with warnings.catch_warnings():
    # pyHanko imports cryptography's DSA key types, which cryptography deprecates; the platform signs with ECDSA
    # only, and the warning would otherwise print on every command that loads this module (e.g. `xinyong jobs run`).
    warnings.filterwarnings("ignore", category=CryptographyDeprecationWarning)
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.registry import SimpleCertificateStore

CERT_NAME = "report-signing.pem"
KEY_NAME = "report-signing.key"
SUBJECT_NAME = "xinyong 公共信用信息平台（演示证书）"


@dataclass(frozen=True, slots=True)
class Certificate:
    cert_pem: bytes
    key_pem: bytes | None  # None when only verifying

    @property
    def asn1(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(
            x509.load_pem_x509_certificate(self.cert_pem).public_bytes(serialization.Encoding.DER)
        )


def _generate(cert_path: Path, key_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SUBJECT_NAME)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def load_certificate(
    data_dir: Path, cert_path: Path | None = None, key_path: Path | None = None
) -> Certificate:
    """The configured certificate and key, or the demo one in `data_dir/keys` (generated on first use)."""
    if cert_path is None or key_path is None:
        cert_path, key_path = data_dir / "keys" / CERT_NAME, data_dir / "keys" / KEY_NAME
        if not key_path.exists():
            _generate(cert_path, key_path)
    return Certificate(cert_path.read_bytes(), key_path.read_bytes())


def sign_pdf(pdf: bytes, certificate: Certificate, *, reason: str, location: str) -> bytes:
    """The PDF with a PAdES signature (an incremental update) by the platform's certificate."""
    assert certificate.key_pem is not None
    key = serialization.load_pem_private_key(certificate.key_pem, password=None)
    der_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = signers.SimpleSigner(
        signing_cert=certificate.asn1,
        signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
        cert_registry=SimpleCertificateStore.from_certs([certificate.asn1]),  # type: ignore[no-untyped-call]
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name="Signature", subfilter=SigSeedSubFilter.PADES, reason=reason, location=location
    )
    out = signers.sign_pdf(writer, meta, signer=signer)
    return out.getvalue()  # type: ignore[no-any-return]


def check_pdf(pdf: bytes, certificate: Certificate) -> str | None:
    """Why the PDF's signature is not a whole-file, intact, trusted signature of this certificate, or None."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
        if len(signatures) != 1:
            return "PDF 未携带平台签名"
        context = ValidationContext(trust_roots=[certificate.asn1], allow_fetching=False)
        status = validate_pdf_signature(signatures[0], context)
    except Exception as exc:  # a damaged file can fail anywhere in the parser
        return f"PDF 无法解析或签名损坏（{type(exc).__name__}）"
    if not status.intact or not status.valid:
        return "PDF 签名与内容不符：文件已被改动"
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return "签名之后文件又被改动"
    if not status.trusted:
        return "签名证书不是平台证书"
    return None
