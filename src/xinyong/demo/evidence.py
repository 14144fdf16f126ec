"""Documents of the demo history: a tiny valid PDF standing in for scanned evidence, and the correction an
objection brings to a penalty."""

from __future__ import annotations

from collections.abc import Sequence

from xinyong.records.models import Record


def corrections_for(record: Record) -> dict[str, str]:
    """A real correction of a penalty: the fine as entered was too high; the content follows."""
    old = float(record.fields["fine_wan"])
    new = max(0.1, round(old * 0.6, 1))
    yuan = round(new * 10_000)
    return {"fine_wan": f"{new:g}", "content": f"决定给予当事人以下行政处罚：1. 罚款人民币{yuan}元。"}


def evidence_pdf(title: str, lines: Sequence[str]) -> bytes:
    """A tiny valid one-page PDF (ASCII text in Helvetica) standing in for a scanned receipt or report."""

    def text(value: str) -> str:
        return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    content = "\n".join(
        ["BT", "/F1 16 Tf", "72 770 Td", "22 TL", f"({text(title)}) Tj", "/F1 11 Tf"]
        + [f"T* ({text(line)}) Tj" for line in lines]
        + ["ET"]
    ).encode("ascii")
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref)
    return bytes(out)
