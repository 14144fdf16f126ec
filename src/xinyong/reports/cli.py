"""`xinyong reports generate` (a standard or special report to a PDF file), `xinyong reports batch` (an XLSX
or CSV of codes to a ZIP of reports, with progress) and `xinyong reports verify` (offline: the platform's
public key and certificate only, no database)."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from xinyong.accounts.policy import SYSTEM
from xinyong.clikit import domain_errors, err_console, open_platform, today
from xinyong.db.session import transaction
from xinyong.kit.errors import ValidationFailed, XinyongError
from xinyong.kit.tabular import read_rows
from xinyong.reports import pades, service, verification
from xinyong.subjects import service as subjects

reports_app = typer.Typer(help="信用报告：出具标准版或专项信用报告、离线核验报告 PDF", no_args_is_help=True)


def _date(value: str | None, name: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"{name} 须为日期 YYYY-MM-DD", code="reports.date") from None


@reports_app.command("generate")
@domain_errors
def generate(
    uscc: Annotated[str, typer.Option("--uscc", help="主体的统一社会信用代码")],
    out: Annotated[Path, typer.Option("--out", help="报告 PDF 写到这里")],
    kind: Annotated[str, typer.Option("--kind", help="standard（标准版）或 special（专项）")] = "standard",
    start: Annotated[str | None, typer.Option("--from", help="专项报告查询期起（YYYY-MM-DD）")] = None,
    end: Annotated[str | None, typer.Option("--to", help="专项报告查询期止（YYYY-MM-DD）")] = None,
    fields: Annotated[str, typer.Option("--fields", help="专项报告的领域，逗号分隔（如 market,tax）")] = "",
    purpose: Annotated[str, typer.Option("--purpose", help="出具事由（记入审计）")] = "命令行出具信用报告",
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出回执")] = False,
) -> None:
    """Issue a report as the platform (audited, logged on the subject's file) and write its PDF."""
    if kind not in ("standard", "special"):
        raise ValidationFailed("--kind 只能是 standard 或 special", code="reports.kind")
    first, last = _date(start, "--from"), _date(end, "--to")
    if (first is None) != (last is None):
        raise ValidationFailed("--from 和 --to 须同时给出", code="reports.period")
    platform = open_platform()
    day = today()
    with transaction(platform.sessions) as session:
        subject = subjects.get_by_uscc(session, uscc.strip())
        report = service.issue(
            session,
            service.report_context(platform.settings, platform.catalog, platform.signer),
            SYSTEM,
            subject_id=subject.id,
            kind=kind,
            today=day,
            period=(first, last) if first and last else None,
            fields=[f.strip() for f in fields.split(",") if f.strip()],
            purpose=purpose,
        )
        pdf = service.read_pdf(platform.settings.data_dir, report)
        number, digest = report.number, report.sha256
    out.write_bytes(pdf)
    receipt = {"report_number": number, "sha256": digest, "out": str(out), "bytes": len(pdf)}
    if as_json:
        typer.echo(json.dumps(receipt, ensure_ascii=False))
    else:
        typer.echo(f"报告 {number} 已写入 {out}（SHA-256 {digest}）")


BATCH_MAX = 5000
CODE_COLUMNS = ("统一社会信用代码", "uscc", "USCC")


@reports_app.command("batch")
@domain_errors
def batch(
    codes: Annotated[
        Path, typer.Argument(help="XLSX 或 CSV 文件，列：统一社会信用代码", exists=True, dir_okay=False)
    ],
    out: Annotated[Path, typer.Option("--out", help="报告 ZIP 写到这里")],
    purpose: Annotated[str, typer.Option("--purpose", help="出具事由（记入审计）")],
    kind: Annotated[str, typer.Option("--kind", help="standard 或 special")] = "standard",
    fields: Annotated[str, typer.Option("--fields", help="专项报告的领域，逗号分隔")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出回执")] = False,
) -> None:
    """Issue one report per code (each in its own transaction; a code that fails is listed, not fatal) and
    write them with a receipt (receipt.json) into a ZIP."""
    with codes.open("rb") as stream:
        wanted = []
        for row in read_rows(stream, codes.name):
            value = next((str(row.values[c]).strip() for c in CODE_COLUMNS if row.values.get(c)), "")
            wanted.append((row.number, value))
            if len(wanted) > BATCH_MAX:
                raise ValidationFailed(f"一次最多 {BATCH_MAX} 个主体", code="reports.batch_too_large")
    platform = open_platform()
    context = service.report_context(platform.settings, platform.catalog, platform.signer)
    day = today()
    results: list[dict[str, object]] = []
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive, Progress(console=err_console) as progress:
        task = progress.add_task("出具信用报告", total=len(wanted))
        for number, code in wanted:
            try:
                with transaction(platform.sessions) as session:
                    subject = subjects.get_by_uscc(session, code)
                    report = service.issue(
                        session,
                        context,
                        SYSTEM,
                        subject_id=subject.id,
                        kind=kind,
                        today=day,
                        fields=[f.strip() for f in fields.split(",") if f.strip()],
                        purpose=purpose,
                    )
                    pdf = service.read_pdf(platform.settings.data_dir, report)
                    issued = report.number
                archive.writestr(f"{code}-{issued}.pdf", pdf)
                results.append({"row": number, "uscc": code, "report_number": issued})
            except XinyongError as exc:
                results.append(
                    {"row": number, "uscc": code, "error": {"code": exc.code, "message": exc.message}}
                )
            progress.advance(task)
        archive.writestr("receipt.json", json.dumps(results, ensure_ascii=False, indent=1))
    issued_count = sum(1 for r in results if "report_number" in r)
    receipt = {
        "rows": len(results),
        "issued": issued_count,
        "failed": len(results) - issued_count,
        "out": str(out),
    }
    typer.echo(
        json.dumps(receipt, ensure_ascii=False)
        if as_json
        else f"已出具 {issued_count}/{len(results)} 份，写入 {out}"
    )


@reports_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="报告 PDF", exists=True, dir_okay=False)],
    public_key: Annotated[
        str | None, typer.Option("--public-key", help="平台 Ed25519 公钥（base64）；默认本机配置的密钥")
    ] = None,
    certificate: Annotated[
        Path | None, typer.Option("--cert", help="平台签章证书（PEM）；默认本机配置或演示证书")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="以 JSON 输出结果")] = False,
) -> None:
    """Is the PDF genuine and unchanged? Offline (keys only); exit 0 only when it is, 1 otherwise."""
    if public_key is not None and certificate is not None:
        check, cert = (
            verification.by_public_key(public_key),
            pades.Certificate(certificate.read_bytes(), None),
        )
    else:
        platform = open_platform()
        check = (
            verification.by_public_key(public_key) if public_key else verification.by_signer(platform.signer)
        )
        cert = (
            pades.Certificate(certificate.read_bytes(), None)
            if certificate
            else service.certificate(platform.settings)
        )
    verdict = verification.verify_pdf_offline(file.read_bytes(), check, cert)
    if as_json:
        typer.echo(json.dumps(verdict.as_dict(), ensure_ascii=False))
    elif verdict.genuine and verdict.unchanged:
        summary = verdict.summary or {}
        typer.echo(f"核验通过：{summary.get('title')} {verdict.report_number}，{summary.get('subject_name')}")
    else:
        err_console.print(f"核验未通过：{verdict.reason}")
    if not (verdict.genuine and verdict.unchanged):
        raise typer.Exit(1)
