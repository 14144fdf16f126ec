"""Deterministic synthetic Sichuan: demo departments and the batches they would send.

`batches()` yields department files as rows of cell text (header -> value), the way a department's CSV or
XLSX export would carry them: registration (DJ) first, then licences, penalties and the other catalog items
of the last five years before `today`. Everything derives from one `random.Random(seed)`, so the same
(scale, today, seed) gives the same batches. Rows are valid against the catalog except a handful of
deliberately defective ones (wrong check digits, a missing required field, a future date, an unknown enum
value, an end date before its start) and a few rows that name a company without any code.

The departments are `xinyong.demo.departments`; the plan of cells, the column layouts and the choices every
row makes are `xinyong.demo.planning`; the wording of the records is `xinyong.demo.templates`.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Iterator, Sequence

from xinyong.demo import templates
from xinyong.demo.departments import departments as departments
from xinyong.demo.planning import (
    BAD_ENUM,
    BLANK,
    CERTIFICATE_NUMBERS,
    END,
    HEADERS,
    MAX_BATCH_ROWS,
    TABLES,
    Cell,
    Planner,
    chinese,
    penalty_part,
)
from xinyong.demo.planning import DemoBatch as DemoBatch
from xinyong.demo.population import (
    ORG_ALPHABET,
    Subject,
    court_name,
    mr_bureau_name,
    tax_bureau_name,
    wan,
    weighted,
)
from xinyong.kit import regions
from xinyong.kit.dates import add_months, parse_date


class _Generator(Planner):
    """The rows of each catalog item, built on the plan and choices of `Planner`."""

    def _xk(self, cell: Cell) -> dict[str, str]:
        rng, f = self.rng, self.fmt
        tpl, s = self._pick(cell, templates.LICENCES)
        day = self._day(cell, s)
        doc_no = self._doc_no(cell)
        until = add_months(day, 12 * tpl.years) - dt.timedelta(days=1) if tpl.years else None
        return {
            **self._who(s), **self._authority(cell), "doc_name": tpl.doc_name, "doc_no": doc_no,
            "licence_category": tpl.category, "certificate_name": tpl.certificate,
            "certificate_no": self._certificate_no(tpl.number, s, day, self.counters[(cell.provider.code, "XK", str(cell.year))]),
            "content": rng.choice(tpl.contents).format(project=rng.choice(templates.PROJECTS)),
            "decision_date": f(day), "valid_from": f(day), "valid_until": f(until) if until else "",
            "record_status": "撤销" if rng.random() < 0.003 else "正常",
        }  # fmt: skip

    def _cf(self, cell: Cell) -> dict[str, str]:
        rng, f = self.rng, self.fmt
        severity = weighted(rng, (("轻微", 45), ("一般", 45), ("严重", 10)))
        tpl, s = self._pick(cell, templates.PENALTIES)
        day = self._day(cell, s)
        person = s.kind == "P"
        fine = confiscated = 0
        types: list[str] = []
        revoked = ""
        if severity == "轻微":
            if rng.random() < 0.4:
                types.append("警告")
            else:
                fine = rng.randint(2, 50) * 100
                types += ["警告", "罚款"] if rng.random() < 0.3 else ["罚款"]
        elif severity == "一般":
            fine = rng.randint(10, 100) * 500
            types.append("罚款")
            if rng.random() < 0.3:
                confiscated = rng.randint(5, 200) * 100
                types.append("没收违法所得")
        else:
            fine = rng.randint(50, 1000) * 1000
            types.append("罚款")
            if rng.random() < 0.6:
                confiscated = rng.randint(50, 3000) * 100
                types.append("没收违法所得")
            if not person and rng.random() < 0.3:
                if tpl.certificate == "营业执照" and self._group(cell.provider.code, "CF") != "MR":
                    types.append("责令停产停业")
                else:
                    types.append("吊销许可证件" if tpl.certificate != "营业执照" else "吊销营业执照")
                    kind = CERTIFICATE_NUMBERS.get(tpl.certificate, "")
                    number = (
                        s.uscc if tpl.certificate == "营业执照" else self._certificate_no(kind, s, day, fine)
                    )
                    revoked = f"{tpl.certificate}（{number}）"
        if person and fine:
            fine = max(200, fine // 1000 * 100)
        parts = [penalty_part(kind, fine, confiscated, tpl.certificate) for kind in types]
        content = (
            "决定给予当事人以下行政处罚：" + "；".join(f"{i}. {p}" for i, p in enumerate(parts, 1)) + "。"
        )
        value = rng.randint(5, 500) * 100
        facts = tpl.facts.format(
            d=chinese(day - dt.timedelta(days=rng.randint(15, 90))), place=s.address or self._area(s),
            area=self._area(s), n=rng.randint(2, 60), value=value, gain=value * rng.randint(5, 40) // 100,
            goods=rng.choice(templates.GOODS.get(tpl.sector, templates.GOODS["市场监管"])), year=day.year - 1,
        )  # fmt: skip
        return {
            **self._who(s), **self._authority(cell), "doc_no": self._doc_no(cell), "violation_type": tpl.violation,
            "facts": facts, "penalty_basis": tpl.basis, "penalty_types": ";".join(types), "content": content,
            "fine_wan": wan(fine) if fine else "", "confiscated_wan": wan(confiscated) if confiscated else "",
            "licence_revoked": revoked, "decision_date": f(day), "severity": severity, "sector": tpl.sector,
            "remarks": "当事人已缴纳罚款" if fine and rng.random() < 0.2 else "",
        }  # fmt: skip

    def _area(self, s: Subject) -> str:
        return regions.name(s.region)

    def _qz(self, cell: Cell) -> dict[str, str]:
        rng = self.rng
        tpl, s = self._pick(cell, templates.ENFORCEMENTS)
        day = self._day(cell, s)
        content = tpl.content.format(
            goods=rng.choice(templates.GOODS["食品药品"]), amount=rng.randint(10, 5000) * 100
        )
        return {
            **self._who(s), "doc_no": self._doc_no(cell), "enforcement_type": tpl.measure, "content": content,
            "decision_date": self.fmt(day), "authority_name": cell.provider.name, "record_status": "正常",
        }  # fmt: skip

    def _jc(self, cell: Cell) -> dict[str, str]:
        rng = self.rng
        tpl, s = self._pick(cell, templates.INSPECTIONS)
        day = self._day(cell, s)
        result = weighted(rng, templates.INSPECTION_RESULTS)
        if self._group(cell.provider.code, "JC") != "MR" and result in (
            "未按规定公示年报",
            "通过登记的住所无法联系",
        ):
            result = "未发现问题"
        return {
            **self._who(s), "doc_no": self._doc_no(cell), "inspection_type": rng.choice(tpl.types),
            "inspection_items": rng.choice(tpl.matters), "result": result, "decision_date": self.fmt(day),
            "authority_name": cell.provider.name, "record_status": "正常",
        }  # fmt: skip

    def _qr(self, cell: Cell) -> dict[str, str]:
        rng = self.rng
        tpl, s = self._pick(cell, templates.CONFIRMATIONS)
        day = self._day(cell, s)
        worker = self.pop.person_name(s.pref, s.county, rng.random() < 0.6)
        content = tpl.content.format(
            person=worker, d=chinese(day - dt.timedelta(days=rng.randint(20, 60))), year=day.year - 1,
            project=rng.choice(templates.PROJECTS), goods=rng.choice(templates.GOODS["市场监管"]),
        )  # fmt: skip
        until = add_months(day, 12 * tpl.years) if tpl.years else None
        return {
            **self._who(s), "doc_no": self._doc_no(cell), "confirmation_type": tpl.confirmation, "content": content,
            "decision_date": self.fmt(day), "valid_until": self.fmt(until) if until else "",
            "authority_name": cell.provider.name, "record_status": "正常",
        }  # fmt: skip

    def _jl(self, cell: Cell) -> dict[str, str]:
        rng = self.rng
        tpl, s = self._pick(cell, templates.HONOURS)
        day = self._day(cell, s)
        level = rng.choice(tpl.levels)
        pref = self.bureau_pref.get(cell.provider.code)
        if pref is not None:
            level = "市级" if rng.random() < 0.8 else "县级"
        elif level in ("市级", "县级"):
            level = "省级"
        honour = tpl.honour
        if not honour.startswith("四川省"):
            lead = {"国家级": "全国", "省级": "四川省", "市级": s.pref.name, "县级": s.county}[level]
            honour = f"{day.year - 1}年度{lead}{honour}"
        return {
            **self._who(s), "doc_no": self._doc_no(cell), "honour_name": honour, "honour_level": level,
            "decision_date": self.fmt(day), "valid_until": self.fmt(add_months(day, 12 * rng.choice((2, 3)))),
            "authority_name": cell.provider.name, "record_status": "正常",
        }  # fmt: skip

    def _sxbzx(self, cell: Cell) -> dict[str, str]:
        rng, f = self.rng, self.fmt
        _, s = self._pick(cell, TABLES["SXBZX"])
        day = self._day(cell, s)
        filed = day - dt.timedelta(days=rng.randint(30, 240))
        if rng.random() < 0.8:
            court, code = court_name(s.pref, s.county), "川" + s.region[2:6]
        else:
            court, code = f"{s.pref.name}中级人民法院", "川" + s.region[2:4]
        case_no = f"（{filed.year}）{code}执{self._next('SCGY', 'SXBZX', str(filed.year))}号"
        creditor = self.pop.subjects[rng.randrange(len(self.pop.subjects))].name
        obligation = rng.choice(templates.OBLIGATIONS).format(
            who=s.name, creditor=creditor, amount=rng.randint(5, 5000) * 1000
        )
        removed = day + dt.timedelta(days=rng.randint(30, 400)) if rng.random() < 0.3 else None
        return {
            **self._who(s), "case_no": case_no, "court_name": court,
            "basis_doc_no": f"（{filed.year - 1}）{code}民初{rng.randint(100, 9999)}号", "obligation": obligation,
            "performance": "全部未履行" if rng.random() < 0.75 else "部分未履行",
            "dishonest_behaviour": weighted(rng, templates.DISHONEST_BEHAVIOURS), "filed_on": f(filed),
            "decision_date": f(day), "removed_on": f(removed) if removed and removed <= self.today else "",
            "record_status": "正常",
        }  # fmt: skip

    def _jyyc(self, cell: Cell) -> dict[str, str]:
        rng, f = self.rng, self.fmt
        _, s = self._pick(cell, TABLES["JYYC"])
        reason = weighted(rng, templates.JYYC_REASONS)
        lo, hi = (
            max(dt.date(cell.year, 7, 1), cell.start, s.registered_on),
            min(dt.date(cell.year, 9, 30), cell.end),
        )
        day = (
            self.pop.between(lo, hi) if reason == "未按规定公示年度报告" and lo <= hi else self._day(cell, s)
        )
        removed = day + dt.timedelta(days=rng.randint(20, 500)) if rng.random() < 0.45 else None
        if removed and removed > self.today:
            removed = None
        return {
            **self._who(s), "reason": reason, "decision_date": f(day),
            "doc_no": f"{s.county}市监异列〔{cell.year}〕{self._next('SCMR', 'JYYC', str(cell.year))}号",
            "authority_name": mr_bureau_name(s.pref, s.county), "removed_on": f(removed) if removed else "",
            "removal_reason": templates.JYYC_REMOVALS[reason] if removed else "", "record_status": "正常",
        }  # fmt: skip

    def _arrears(self, cell: Cell, kinds: Sequence[str]) -> tuple[Subject, dt.date, str, str]:
        """A subject, date, type and period never used together before (the natural key of QS and QJSB)."""
        rng = self.rng
        for _ in range(50):
            _, s = self._pick(cell, TABLES[cell.item])
            day = self._day(cell, s)
            kind = rng.choice(kinds)
            if cell.item == "QS":
                quarter_end = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1) - dt.timedelta(days=1)
                back = add_months(quarter_end, -3 * rng.randint(0, 3))
                period = f"{back.year}年第{(back.month - 1) // 3 + 1}季度"
            else:
                back = add_months(day, -rng.randint(1, 6))
                period = f"{back.year}年{back.month:02d}月"
            key = (cell.item, s.uscc, kind, period)
            if key not in self.keys:
                self.keys.add(key)
                return s, day, kind, period
        raise RuntimeError("no free arrears period")

    def _qs(self, cell: Cell) -> dict[str, str]:
        rng, f = self.rng, self.fmt
        s, day, tax, period = self._arrears(cell, templates.TAX_TYPES)
        settled = day + dt.timedelta(days=rng.randint(10, 300)) if rng.random() < 0.4 else None
        return {
            **self._who(s), "tax_type": tax, "tax_period": period, "arrears_wan": wan(int(10 ** rng.uniform(2.7, 6.7))),
            "decision_date": f(day), "authority_name": tax_bureau_name(s.pref, s.county),
            "settled_on": f(settled) if settled and settled <= self.today else "", "record_status": "正常",
        }  # fmt: skip

    def _qjsb(self, cell: Cell) -> dict[str, str]:
        rng, f = self.rng, self.fmt
        s, day, insurance, period = self._arrears(cell, templates.INSURANCE_TYPES)
        settled = day + dt.timedelta(days=rng.randint(10, 200)) if rng.random() < 0.5 else None
        return {
            **self._who(s), "insurance_type": insurance, "arrears_period": period,
            "arrears_wan": wan(int(10 ** rng.uniform(3.0, 5.7))), "decision_date": f(day),
            "authority_name": f"{s.pref.name}社会保险事业管理局",
            "settled_on": f(settled) if settled and settled <= self.today else "", "record_status": "正常",
        }  # fmt: skip

    def _cn(self, cell: Cell) -> dict[str, str]:
        rng, f = self.rng, self.fmt
        tpl, s = self._pick(cell, templates.COMMITMENTS)
        day = self._day(cell, s)
        until = add_months(day, 12 * rng.choice((1, 2, 3)))
        fulfilment = weighted(rng, (("履约中", 55), ("已履约", 38), ("违诺", 7)))
        if fulfilment == "履约中" and until < self.today:
            fulfilment = "已履约"
        checked = (
            min(day + dt.timedelta(days=rng.randint(30, 365)), self.today) if fulfilment != "履约中" else None
        )
        no = self._next(cell.provider.code, "CN", str(cell.year))
        return {
            **self._who(s), "commitment_no": f"XYCN-{cell.provider.code}-{cell.year}-{no:06d}",
            "commitment_type": tpl.commitment, "matter": tpl.matter, "content": tpl.content, "decision_date": f(day),
            "valid_until": f(until), "accepting_body": cell.provider.name, "fulfilment": fulfilment,
            "fulfilment_checked_on": f(checked) if checked else "", "record_status": "正常",
        }  # fmt: skip

    # -- defects and name-only rows --

    def _special(self, kind: str, item: str, row: dict[str, str]) -> bool:
        """Apply one defect or name-only change to a row when it fits; False when it does not."""
        rng = self.rng
        if kind in ("name_only", "unknown_name"):
            if item not in ("XK", "CF") or not row.get("uscc", "").startswith("91"):
                return False
            row["uscc"] = ""
            if kind == "unknown_name":
                row["subject_name"] = self.pop.unknown_company()
            return True
        if kind == "uscc_checksum" or kind == "id_checksum":
            column = "uscc" if kind == "uscc_checksum" else "id_no"
            value = row.get(column, "")
            if not value:
                return False
            alphabet = ORG_ALPHABET if column == "uscc" else "0123456789X"
            row[column] = value[:-1] + alphabet[(alphabet.index(value[-1]) + 1) % len(alphabet)]
            return True
        if kind == "missing_required":
            row[BLANK[item]] = ""
            return True
        if kind == "future_date":
            # Only where no other date must follow the decision date, so that the row has this one defect.
            follows, after = END.get(item, ("", ""))
            if (after == "decision_date" and row.get(follows)) or row.get("fulfilment_checked_on"):
                return False
            row["decision_date"] = self.fmt(self.today + dt.timedelta(days=rng.randint(5, 90)))
            return True
        if kind == "bad_enum":
            if item not in BAD_ENUM:
                return False
            column, value = BAD_ENUM[item]
            row[column] = value
            return True
        if kind == "end_before_start" and item in END:
            follows, after = END[item]
            row[follows] = self.fmt(parse_date(row[after]) - dt.timedelta(days=rng.randint(10, 200)))
            return True
        return False

    def _row(self, cell: Cell, build: Callable[[Cell], dict[str, str]]) -> dict[str, str]:
        row = build(cell)
        while self.queue and self.queue[-1][0] <= self.position:
            self.pending.append(self.queue.pop()[1])
        self.position += 1
        for i, kind in enumerate(self.pending):
            if self._special(kind, cell.item, row):
                del self.pending[i]
                break
        return {header: row.get(name, "") for name, header in HEADERS[cell.item]}

    def run(self, on_plan: Callable[[str, int], None] | None = None) -> Iterator[DemoBatch]:
        self.pop.populate(self.scale)
        if on_plan is not None:
            on_plan(REGISTRATIONS, len(self.pop.subjects))
        yield from self._dj_batches()
        builders: dict[str, Callable[[Cell], dict[str, str]]] = {
            "XK": self._xk, "CF": self._cf, "QZ": self._qz, "JC": self._jc, "QR": self._qr, "JL": self._jl,
            "SXBZX": self._sxbzx, "JYYC": self._jyyc, "QS": self._qs, "QJSB": self._qjsb, "CN": self._cn,
        }  # fmt: skip
        cells = self._plan()
        self._plan_specials(cells)
        judgments = self._criminal_judgments()
        if on_plan is not None:
            on_plan(RECORDS, sum(cell.count for cell in cells) + len(judgments.rows))
        for cell in cells:
            build = builders[cell.item]
            parts = math.ceil(cell.count / MAX_BATCH_ROWS)
            for part in range(parts):
                size = cell.count // parts + (1 if part < cell.count % parts else 0)
                self.fmt = self._formatter()
                rows = [self._row(cell, build) for _ in range(size)]
                suffix = f"-{part + 1}" if parts > 1 else ""
                filename = f"{cell.item.lower()}-{cell.provider.code.lower()}-{cell.year}{suffix}.csv"
                yield DemoBatch(cell.item, cell.provider.code, filename, rows)
        yield judgments

    def _criminal_judgments(self) -> DemoBatch:
        """Two criminal judgments (刑事判决, XSPJ) of the high court against companies (单位犯罪), so the special
        report's 刑事判决 answer has something to show; drawn apart from the main stream, which stays as it was."""
        rng = random.Random(f"xspj-{self.today.isoformat()}")
        old = self.today.year - 3
        companies = [s for s in self.pop.subjects if s.kind == "E" and s.registered_on.year < old]
        charges = ("破坏社会主义市场经济秩序罪", "妨害社会管理秩序罪")
        rows = []
        for n, s in enumerate(rng.sample(companies, min(2, len(companies)))):
            effective = self.today - dt.timedelta(days=rng.randint(60, 700))
            judged = effective - dt.timedelta(days=rng.randint(11, 40))
            row = {k: v for k, v in self._who(s).items() if k != "legal_rep"}  # no such field in XSPJ
            row["doc_no"] = f"（{judged.year}）川{s.region[2:6]}刑初{101 + n}号"
            row |= {"court_name": court_name(s.pref, s.county), "charge_category": charges[n]}
            row |= {"judgment_date": judged.isoformat(), "effective_date": effective.isoformat()}
            rows.append(row | {"record_status": "正常"})
        return DemoBatch("XSPJ", "SCGY", "xspj-scgy.csv", rows)


REGISTRATIONS = "registrations"  # the registration (DJ) batches, one row per subject
RECORDS = "records"  # every other item's batches


def batches(
    scale: float = 1.0,
    *,
    today: dt.date,
    seed: int = 546,
    on_plan: Callable[[str, int], None] | None = None,
) -> Iterator[DemoBatch]:
    """Department batches of a synthetic Sichuan, deterministic for (scale, today, seed).

    Scale 1.0 gives about 20,000 subjects and 200,000 rows. Registration (DJ) batches come first; the others
    are split per (item, provider, year) into batches of at most 5,000 rows, generated one at a time.
    ``on_plan(part, rows)`` is told, before each part's first batch, how many rows the part's batches hold
    (`REGISTRATIONS`, then `RECORDS`): enough for a progress bar, without changing what is generated.
    """
    yield from _Generator(scale, today, seed).run(on_plan)
