"""Ingestion through the service: validation, resolution, versioning, idempotency, nothing lost."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tests.helpers import department, ingest_rows, licence, penalty, resident_id, uscc
from xinyong.kit.crypto import PersonalIdCipher
from xinyong.kit.errors import NotFound, ValidationFailed
from xinyong.kit.tabular import Row
from xinyong.records import batches, ingest_store, rules, service
from xinyong.records.models import Record, RecordVersion, RejectedRow, UnresolvedRow
from xinyong.records.service import IngestContext
from xinyong.subjects.models import Subject


def ingest(
    session: Session, ctx: IngestContext, rows: list[dict[str, Any]], item: str = "CF", provider: str = "SCMR"
) -> Any:
    return ingest_rows(session, ctx, rows, item, provider)


class TestSubmitPenalties:
    def test_valid_rows_are_accepted_and_attached_to_their_subject(
        self, session: Session, ctx: IngestContext
    ) -> None:
        code = uscc()
        receipt = ingest(session, ctx, [penalty(CF_XDR_SHXYM=code), penalty(CF_XDR_SHXYM=code.lower())])
        assert (receipt.accepted, receipt.rejected, receipt.queued) == (2, 0, 0)
        subject = session.scalars(select(Subject).where(Subject.uscc == code)).one()
        records = session.scalars(select(Record).where(Record.subject_id == subject.id)).all()
        assert len(records) == 2
        assert {r.severity for r in records} == {"一般"}

    def test_resending_the_same_file_changes_nothing(self, session: Session, ctx: IngestContext) -> None:
        rows = [penalty(), penalty()]
        ingest(session, ctx, rows)
        again = ingest(session, ctx, rows)
        assert (again.accepted, again.updated, again.unchanged) == (0, 0, 2)
        assert session.scalar(select(func.count(RecordVersion.id))) == 0

    def test_a_changed_row_makes_a_new_version_and_keeps_the_old(
        self, session: Session, ctx: IngestContext
    ) -> None:
        row = penalty(CF_NR_FK="5")
        ingest(session, ctx, [row])
        receipt = ingest(session, ctx, [{**row, "CF_NR_FK": "8"}])
        assert (receipt.accepted, receipt.updated) == (0, 1)
        record = session.scalars(select(Record).where(Record.doc_no == row["CF_WSH"])).one()
        assert record.version == 2 and record.fields["fine_wan"] == "8"
        old = session.scalars(select(RecordVersion).where(RecordVersion.record_id == record.id)).one()
        assert old.version == 1 and old.fields["fine_wan"] == "5"

    def test_revocation_is_a_state_not_a_delete(self, session: Session, ctx: IngestContext) -> None:
        row = penalty()
        ingest(session, ctx, [row])
        ingest(session, ctx, [{**row, "record_status": "撤销"}])
        record = session.scalars(select(Record).where(Record.doc_no == row["CF_WSH"])).one()
        assert record.status == "revoked" and record.version == 2

    def test_severity_absent_means_general_and_english_words_are_accepted(
        self, session: Session, ctx: IngestContext
    ) -> None:
        no_severity = penalty()
        del no_severity["severity"]
        ingest(session, ctx, [no_severity, penalty(severity="serious"), penalty(severity="minor")])
        severities = sorted(str(severity) for severity in session.scalars(select(Record.severity)))
        assert severities == sorted(["一般", "严重", "轻微"])

    def test_english_field_names_work_as_headers(self, session: Session, ctx: IngestContext) -> None:
        code = uscc()
        row = {
            "doc_no": "川环罚〔2026〕9号",
            "subject_name": "德阳某某化工有限公司",
            "uscc": code,
            "violation_type": "超标排放",
            "facts": "超标排放大气污染物",
            "penalty_basis": "《大气污染防治法》第九十九条",
            "penalty_types": "罚款",
            "content": "罚款20万元",
            "fine_wan": "20",
            "decision_date": "2026年5月3日",
            "authority_name": "德阳市生态环境局",
            "authority_uscc": uscc("510600", "11"),
            "severity": "严重",
        }
        receipt = ingest(session, ctx, [row])
        assert receipt.accepted == 1
        record = session.scalars(select(Record).where(Record.doc_no == "川环罚〔2026〕9号")).one()
        assert str(record.decision_date) == "2026-05-03"


class TestRejectedRows:
    @pytest.mark.parametrize(
        ("override", "field", "code"),
        [
            ({"CF_XDR_SHXYM": "91510104MA6C12341Y"}, "uscc", "uscc.checksum"),
            ({"CF_XDR_SHXYM": "9151010OMA6C12341X"}, "uscc", "uscc.format"),
            ({"CF_WSH": ""}, "doc_no", "required"),
            ({"CF_JDRQ": "2027-01-01"}, "decision_date", "future_date"),
            ({"CF_JDRQ": "2026-13-45"}, "decision_date", "date"),
            ({"severity": "特别严重"}, "severity", "enum"),
            ({"CF_YXQ": "2026-01-01"}, "valid_until", "date_order"),
            ({"CF_NR_FK": "五万"}, "fine_wan", "amount"),
            ({"CF_XDR_MC": "某" * 201}, "subject_name", "too_long"),
            ({"CF_XDR_LB": "自然人", "CF_XDR_SHXYM": ""}, "id_no", "subject.id_required"),
        ],
    )
    def test_each_defect_is_reported_with_field_and_stable_code(
        self, session: Session, ctx: IngestContext, override: dict[str, str], field: str, code: str
    ) -> None:
        receipt = ingest(session, ctx, [penalty(), penalty(**override)])
        assert (receipt.accepted, receipt.rejected) == (1, 1)
        (rejected,) = receipt.rejected_rows
        assert rejected.row == 3
        assert {"field": field, "code": code} in [
            {"field": e["field"], "code": e["code"]} for e in rejected.errors
        ]
        assert all(e["message"] for e in rejected.errors)

    def test_rejected_rows_are_kept_with_personal_ids_masked(
        self, session: Session, ctx: IngestContext
    ) -> None:
        rid = resident_id()
        bad = penalty(
            CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJHM=rid, CF_JDRQ="2099-01-01", CF_XDR_MC="李四"
        )
        receipt = ingest(session, ctx, [bad])
        stored = session.scalars(select(RejectedRow).where(RejectedRow.batch_id == receipt.batch_id)).one()
        assert rid not in str(stored.raw) and stored.raw["CF_XDR_ZJHM"] == rid[:4] + "*" * 10 + rid[-4:]
        assert stored.raw_sensitive and rid not in str(stored.raw_sensitive)

    def test_error_report_neutralises_formula_injection(self, session: Session, ctx: IngestContext) -> None:
        receipt = ingest(session, ctx, [penalty(CF_XDR_MC="=cmd|' /C calc'!A0", CF_WSH="")])
        batch = batches.get_batch(session, receipt.batch_id)
        from xinyong.kit.tabular import write_csv

        text = "".join(write_csv(batches.rejected_report(session, batch, ctx.cipher)))
        assert "'=cmd|" in text and ",=cmd" not in text

    def test_missing_required_column_fails_the_file_with_its_names(
        self, session: Session, ctx: IngestContext
    ) -> None:
        row = penalty()
        del row["CF_WSH"]
        with pytest.raises(ValidationFailed) as info:
            ingest(session, ctx, [row])
        assert info.value.code == "file.missing_columns" and "doc_no" in info.value.details["missing"]

    def test_unknown_item_and_provider_are_refused(self, session: Session, ctx: IngestContext) -> None:
        with pytest.raises(NotFound):
            ingest(session, ctx, [penalty()], item="NOPE")
        with pytest.raises(NotFound):
            service.ingest(session, ctx, item_code="CF", provider_code="NOBODY", rows=[], source="test")


class TestSubjectResolution:
    def test_natural_person_is_found_by_keyed_hash_and_never_stored_in_clear(
        self, session: Session, ctx: IngestContext
    ) -> None:
        rid = resident_id(
            "510105", __import__("datetime").date(1962, 1, 9)
        )  # area code from 1990, born earlier
        row = penalty(
            CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_XDR_ZJLX="身份证", CF_XDR_ZJHM=rid, CF_XDR_MC="王五"
        )
        receipt = ingest(session, ctx, [row, {**row, "CF_WSH": "川市监罚〔2026〕99999号"}])
        assert receipt.accepted == 2
        person = session.scalars(select(Subject).where(Subject.kind == "natural_person")).one()
        assert person.id_hash == ctx.cipher.hash(rid) and ctx.cipher.decrypt(person.id_cipher or "") == rid
        assert person.id_masked == rid[:4] + "**********" + rid[-4:]
        for record in session.scalars(select(Record).where(Record.subject_id == person.id)):
            assert rid not in str(record.fields) and rid not in str(record.sensitive)

    def test_name_and_region_attach_to_the_one_matching_subject(
        self, session: Session, ctx: IngestContext
    ) -> None:
        code = uscc("510104")
        ingest(
            session, ctx, [licence(XK_XDR_MC="成都锦江区好味道餐饮有限公司", XK_XDR_SHXYM=code)], item="XK"
        )
        row = penalty(CF_XDR_MC="成都锦江区好味道餐饮有限公司", CF_XDR_SHXYM="", region_code="510104")
        receipt = ingest(session, ctx, [row])
        assert (receipt.accepted, receipt.queued) == (1, 0)
        record = session.scalars(select(Record).where(Record.doc_no == row["CF_WSH"])).one()
        assert session.get(Subject, record.subject_id).uscc == code  # type: ignore[union-attr]

    def test_unknown_or_ambiguous_names_wait_in_the_review_queue(
        self, session: Session, ctx: IngestContext
    ) -> None:
        name = "成都同名商贸有限公司"
        ingest(
            session,
            ctx,
            [
                licence(XK_XDR_MC=name, XK_XDR_SHXYM=uscc("510104")),
                licence(XK_XDR_MC=name, XK_XDR_SHXYM=uscc("510104")),
            ],
            item="XK",
        )
        receipt = ingest(
            session,
            ctx,
            [
                penalty(CF_XDR_MC=name, CF_XDR_SHXYM="", region_code="510104"),
                penalty(CF_XDR_MC="从未出现过的公司", CF_XDR_SHXYM="", region_code="510104"),
                penalty(CF_XDR_MC="没有地区的公司", CF_XDR_SHXYM=""),
            ],
        )
        assert (receipt.accepted, receipt.queued) == (0, 3)
        reasons = sorted(session.scalars(select(UnresolvedRow.reason_code)).all())
        assert reasons == ["subject.ambiguous", "subject.not_found", "subject.region_required"]

    def test_a_reviewer_resolves_a_queued_row(self, session: Session, ctx: IngestContext) -> None:
        code = uscc("510104")
        ingest(session, ctx, [licence(XK_XDR_SHXYM=code)], item="XK")
        ingest(session, ctx, [penalty(CF_XDR_MC="待确认公司", CF_XDR_SHXYM="", region_code="510104")])
        queued = session.scalars(select(UnresolvedRow)).one()
        receipt = service.resolve_unresolved(session, ctx, queued.id, code)
        assert receipt.accepted == 1 and queued.status == "resolved"


class TestInterruptedIngest:
    def test_a_rerun_after_a_crash_finishes_the_file_without_duplicates(
        self, session: Session, ctx: IngestContext
    ) -> None:
        rows = [penalty() for _ in range(10)]
        calls = {"n": 0}

        def crash_after_first_chunk(batch: object) -> None:
            session.commit()
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("power cut")

        with pytest.raises(RuntimeError):
            ingest_rows(session, ctx, rows, chunk_size=4, on_chunk=crash_after_first_chunk)
        session.rollback()
        assert session.scalar(select(func.count(Record.id))) == 4  # the first chunk was committed
        receipt = ingest_rows(session, ctx, rows, chunk_size=4)
        assert (receipt.accepted, receipt.unchanged) == (6, 4)
        assert session.scalar(select(func.count(Record.id))) == 10


class TestStoringBesideValidation:
    """Chunks are stored on a thread of their own while the next one is validated (`_DatabaseThread`): a
    failure on either side stops the ingest at once, and nothing is stored after it."""

    @pytest.fixture
    def stored(self, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
        calls: list[tuple[int, str]] = []
        real = ingest_store.store_chunk

        def spying(session: Session, ctx: IngestContext, item: Any, batch: Any, chunk: Any) -> None:
            calls.append((len(chunk.valid), threading.current_thread().name))
            real(session, ctx, item, batch, chunk)

        monkeypatch.setattr(ingest_store, "store_chunk", spying)
        return calls

    def test_chunks_are_stored_off_the_calling_thread_and_none_is_left_running(
        self, session: Session, ctx: IngestContext, stored: list[tuple[int, str]]
    ) -> None:
        receipt = ingest_rows(session, ctx, [penalty() for _ in range(7)], chunk_size=3)
        assert receipt.accepted == 7 and [n for n, _ in stored] == [3, 3, 1]
        assert {name for _, name in stored} != {threading.current_thread().name}
        assert not [t for t in threading.enumerate() if t.name.startswith("xinyong-ingest")]

    def test_no_chunk_is_stored_after_one_that_failed(
        self, session: Session, ctx: IngestContext, stored: list[tuple[int, str]]
    ) -> None:
        def fail(batch: object) -> None:
            raise RuntimeError("disk full")

        with pytest.raises(RuntimeError, match="disk full"):
            ingest_rows(session, ctx, [penalty() for _ in range(28)], chunk_size=2, on_chunk=fail)
        assert len(stored) == 1  # the later chunks were validated, perhaps, but never stored
        assert not [t for t in threading.enumerate() if t.name.startswith("xinyong-ingest")]

    def test_a_file_failing_part_way_keeps_what_was_stored_and_stores_nothing_after(
        self, session: Session, ctx: IngestContext, stored: list[tuple[int, str]]
    ) -> None:
        department(session)
        session.commit()
        good = [penalty() for _ in range(5)]

        def rows() -> Iterator[Row]:
            yield from (Row(n, r) for n, r in enumerate(good, start=2))
            raise ValidationFailed("文件在第7行损坏", code="file.malformed")

        with pytest.raises(ValidationFailed, match="第7行"):
            service.ingest(
                session,
                ctx,
                item_code="CF",
                provider_code="SCMR",
                rows=rows(),
                source="test",
                chunk_size=2,
                on_chunk=lambda _batch: session.commit(),
            )
        session.rollback()
        # The two full chunks read before the failure were stored and committed; the last row was still
        # waiting for its chunk to fill.
        assert [n for n, _ in stored] == [2, 2]
        docs = set(session.scalars(select(Record.doc_no)))
        assert docs == {r["CF_WSH"] for r in good[:4]}
        assert not [t for t in threading.enumerate() if t.name.startswith("xinyong-ingest")]


class TestLargeIngest:
    def test_thousands_of_new_subjects_are_bulk_loaded_and_attached_to_their_own_records(
        self, session: Session, ctx: IngestContext
    ) -> None:
        rows = [penalty() for _ in range(1200)]  # over the COPY threshold in each chunk
        receipt = ingest_rows(session, ctx, rows, chunk_size=500)
        assert (receipt.accepted, receipt.rejected, receipt.queued) == (1200, 0, 0)
        pairs = session.execute(
            select(Record.doc_no, Subject.uscc).join(Subject, Record.subject_id == Subject.id)
        )
        assert dict(pairs.all()) == {r["CF_WSH"]: r["CF_XDR_SHXYM"] for r in rows}

    def test_postgresql_statistics_follow_the_ingest(self, session: Session, ctx: IngestContext) -> None:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("planner statistics are PostgreSQL's")
        session.execute(text("ANALYZE records"))  # the table as this test sees it: empty
        assert session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'records'")) == 0
        department(session, "SCMR")
        service.ingest(
            session,
            ctx,
            item_code="CF",
            provider_code="SCMR",
            rows=[Row(n, penalty()) for n in range(2, 6002)],
            source="test",
            chunk_size=3000,
        )
        # ANALYZE ran inside the ingest's transaction once the table had grown by 5,000 rows or more, so the
        # planner sees the rows this ingest added, not an empty table.
        assert session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'records'")) == 6000
        assert session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'subjects'")) >= 6000
        # Only the columns the ingest's look-ups filter on: not the JSON documents, whose statistics cost most.
        analysed = set(
            session.execute(text("SELECT attname FROM pg_stats WHERE tablename = 'records'")).scalars()
        )
        assert {"natural_key", "raw_digest"} <= analysed
        assert not analysed & {"fields", "sensitive"}


class TestResentRows:
    """Daily full files: a row sent again exactly as its record's current version was made from is counted
    unchanged before it is validated (`records.rules.raw_row`, a keyed digest on the record)."""

    @pytest.fixture
    def validations(self, monkeypatch: pytest.MonkeyPatch) -> list[int]:
        calls: list[int] = []
        real = rules.validate_row

        def counting(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            return real(*args, **kwargs)

        monkeypatch.setattr(rules, "validate_row", counting)
        return calls

    def test_a_resent_file_is_recognised_without_validating_its_rows(
        self, session: Session, ctx: IngestContext, validations: list[int]
    ) -> None:
        rows = [penalty(), penalty(), penalty(CF_XDR_ZJHM=resident_id(), CF_XDR_LB="自然人")]
        first = ingest(session, ctx, rows)
        assert first.accepted == 3 and len(validations) == 3
        again = ingest(session, ctx, rows)
        assert (again.accepted, again.updated, again.unchanged, again.rejected) == (0, 0, 3, 0)
        assert len(validations) == 3  # none of the second file's rows was validated again
        assert session.scalar(select(func.count(RecordVersion.id))) == 0

    def test_only_the_changed_row_of_a_resent_file_is_validated(
        self, session: Session, ctx: IngestContext, validations: list[int]
    ) -> None:
        rows = [penalty(CF_NR_FK="5"), penalty(), penalty()]
        ingest(session, ctx, rows)
        validations.clear()
        receipt = ingest(session, ctx, [{**rows[0], "CF_NR_FK": "9"}, *rows[1:]])
        assert (receipt.updated, receipt.unchanged) == (1, 2) and len(validations) == 1

    def test_a_row_changed_back_makes_a_new_version(self, session: Session, ctx: IngestContext) -> None:
        row = penalty(CF_NR_FK="5")
        ingest(session, ctx, [row])
        ingest(session, ctx, [{**row, "CF_NR_FK": "8"}])
        receipt = ingest(session, ctx, [row])  # the first version's row: no longer what the record holds
        assert (receipt.updated, receipt.unchanged) == (1, 0)
        record = session.scalars(select(Record).where(Record.doc_no == row["CF_WSH"])).one()
        assert record.version == 3 and record.fields["fine_wan"] == "5"

    @pytest.mark.parametrize("chunk_size", [5000, 1], ids=["one chunk", "a chunk each"])
    def test_a_resent_row_after_a_change_of_its_record_in_the_same_file_counts(
        self, session: Session, ctx: IngestContext, validations: list[int], chunk_size: int
    ) -> None:
        # The file changes the record, then sends its current row again: file order decides, as it would if
        # every row were validated, whether the two rows share a chunk or not.
        row = penalty(CF_NR_FK="5")
        ingest_rows(session, ctx, [row])
        validations.clear()
        ingest_rows(session, ctx, [{**row, "CF_NR_FK": "8"}, row], chunk_size=chunk_size)
        assert len(validations) == 2
        record = session.scalars(select(Record).where(Record.doc_no == row["CF_WSH"])).one()
        assert record.fields["fine_wan"] == "5"
        assert record.version == (1 if chunk_size > 1 else 3)  # one submission, or two stored versions

    def test_rows_of_other_records_are_still_recognised_in_a_changing_file(
        self, session: Session, ctx: IngestContext, validations: list[int]
    ) -> None:
        rows = [penalty(CF_NR_FK="5") for _ in range(6)]
        ingest_rows(session, ctx, rows)
        validations.clear()
        changed = [{**r, "CF_NR_FK": "7"} for r in rows[:3]]
        receipt = ingest_rows(session, ctx, [*changed, *rows[3:]], chunk_size=2)
        assert (receipt.updated, receipt.unchanged) == (3, 3) and len(validations) == 3
        fines: dict[str, Any] = dict(session.execute(select(Record.doc_no, Record.fields["fine_wan"])).all())
        assert fines == {r["CF_WSH"]: ("7" if r in rows[:3] else "5") for r in rows}

    @pytest.mark.parametrize("seed", range(12))
    def test_files_end_as_they_would_if_every_row_were_validated(
        self, session: Session, ctx: IngestContext, monkeypatch: pytest.MonkeyPatch, seed: int
    ) -> None:
        # Random files over a few records — rows repeated, changed, changed back, in any order and chunking —
        # are ingested twice: by one provider with the shortcut, and by another with every row validated.
        # Records, versions and receipts must come out the same.
        rnd = random.Random(seed)
        bases = [penalty() for _ in range(4)]
        files = [
            [{**rnd.choice(bases), "CF_NR_FK": rnd.choice(["5", "8"])} for _ in range(rnd.randint(1, 10))]
            for _ in range(4)
        ]
        chunk_sizes = [rnd.choice([1, 2, 3, 50]) for _ in files]
        shortcut = ingest_store.current_raw_digests

        def run(provider: str, validate_all: bool) -> list[tuple[int, int, int]]:
            monkeypatch.setattr(
                ingest_store, "current_raw_digests", (lambda _s, _d: {}) if validate_all else shortcut
            )
            receipts = []
            for rows, chunk_size in zip(files, chunk_sizes, strict=True):
                receipt = ingest_rows(session, ctx, rows, provider=provider, chunk_size=chunk_size)
                receipts.append((receipt.accepted, receipt.updated, receipt.unchanged))
            return receipts

        assert run("SCMR", validate_all=False) == run("SCDR", validate_all=True)

        def state(provider: str) -> dict[str, tuple[Any, ...]]:
            records = session.scalars(select(Record).where(Record.provider_code == provider))
            return {r.doc_no or "": (r.version, r.fields["fine_wan"], r.content_hash) for r in records}

        assert state("SCMR") == state("SCDR")

    def test_the_same_cells_under_other_headers_are_another_row(
        self, session: Session, ctx: IngestContext, validations: list[int]
    ) -> None:
        # The national field codes and the catalog's own names are both accepted: the same penalty sent once
        # with each is validated both times (and is then the same record, unchanged).
        row = penalty(CF_NR_FK="5")
        ingest(session, ctx, [row])
        renamed = {("fine_wan" if k == "CF_NR_FK" else k): v for k, v in row.items()}
        receipt = ingest(session, ctx, [renamed])
        assert receipt.unchanged == 1 and len(validations) == 2

    def test_a_row_of_a_record_corrected_since_is_validated_again(
        self, session: Session, ctx: IngestContext, validations: list[int]
    ) -> None:
        row = penalty()
        ingest(session, ctx, [row])
        record = session.scalars(select(Record).where(Record.doc_no == row["CF_WSH"])).one()
        record.raw_digest = None  # as an upheld objection's correction leaves it (objections.service)
        session.flush()
        receipt = ingest(session, ctx, [row])
        assert receipt.unchanged == 1 and len(validations) == 2

    def test_the_digest_is_keyed_and_holds_no_identifier(self, session: Session, ctx: IngestContext) -> None:
        number = resident_id()
        row = penalty(CF_XDR_ZJHM=number, CF_XDR_LB="自然人")
        ingest(session, ctx, [row])
        stored = session.scalars(select(Record.raw_digest).where(Record.doc_no == row["CF_WSH"])).one()
        assert stored is not None and len(stored) == 32 and number not in stored
        raw = rules.raw_row(ctx.catalog.version, "CF", "SCMR", row)
        assert stored == ctx.cipher.digest(raw)
        other = PersonalIdCipher.from_secrets("another-secret", None, None)
        assert other.digest(raw) != stored  # without the platform's key the digest cannot be recomputed
