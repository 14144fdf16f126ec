"""Compiling a model's features to SQL, once, for every engine.

The feature query of a model is built as one SQLGlot expression tree and generated in the dialect of the
engine that runs it (`sqlite`, `postgres`, `spark`): SQLGlot transpiles what differs (JSON access, date
arithmetic, casts) and quotes every identifier and literal, so a model's codes and values never reach the SQL
as text. The query returns one row per applicable subject: `subject_id`, then one column per indicator code
holding the indicator's raw value. Scoring happens in Python (`rules.evaluate`), the same for every engine.

Only records in force count: status `active` (never revoked or repaired), decided on or before the as-of day
and, where the record has a publicity window, not past its end. A list entry counts while `listed` and inside
its period; a commitment by its status and signing day.

The query reads exactly these tables and columns (a Parquet snapshot for Spark exports these, under the same
names, `fields` as a JSON string):

    INPUT_COLUMNS = {
        "subjects": ["id", "kind", "registered_on", "industry_code"],
        "records": ["id", "subject_id", "item_code", "status", "severity", "decision_date",
                    "public_until", "fields"],
        "list_entries": ["subject_id", "list_type", "status", "decided_on", "public_until"],
        "commitments": ["subject_id", "status", "signed_on"],
        "evaluation_grades": ["subject_id", "model_code", "grade"],
        "evaluation_consents": ["subject_id", "model_code"],
    }
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence

from sqlglot import exp

from xinyong.evaluation.rules import COMMITMENT_STATUSES, months_before
from xinyong.evaluation.schemas import (
    CommitmentFeature,
    ExternalGradeFeature,
    Indicator,
    ListFeature,
    ModelFile,
    ModelGradeFeature,
    RecordFeature,
)

Model = ModelFile

INPUT_COLUMNS: dict[str, list[str]] = {
    "subjects": ["id", "kind", "registered_on", "industry_code"],
    "records": [
        "id",
        "subject_id",
        "item_code",
        "status",
        "severity",
        "decision_date",
        "public_until",
        "fields",
    ],
    "list_entries": ["subject_id", "list_type", "status", "decided_on", "public_until"],
    "commitments": ["subject_id", "status", "signed_on"],
    "evaluation_grades": ["subject_id", "model_code", "grade"],
    "evaluation_consents": ["subject_id", "model_code"],
}
DIALECTS = ("sqlite", "postgres", "spark")


def _col(table: str, name: str) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _s(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def _day(value: dt.date) -> exp.Expr:
    # Dates travel as ISO strings: SQLite stores them so, PostgreSQL and Spark cast the literal to the column.
    return _s(value.isoformat())


def _json_text(dialect: str, table: str, key: str) -> exp.Expr:
    source: exp.Expr = _col(table, "fields")
    if dialect == "postgres":  # the column is JSONB; the generated path function takes JSON
        source = exp.cast(source, "json")
    return exp.JSONExtractScalar(
        this=source, expression=exp.JSONPath(expressions=[exp.JSONPathRoot(), exp.JSONPathKey(this=key)])
    )


def _in(column: exp.Expr, values: Collection[str]) -> exp.Expr:
    return exp.In(this=column, expressions=[_s(v) for v in values])


def _record_condition(feature: RecordFeature, as_of: dt.date, dialect: str) -> exp.Expr:
    cond: exp.Expr = _in(_col("r", "item_code"), feature.items)
    if feature.severities:
        cond = exp.and_(cond, _in(_col("r", "severity"), feature.severities))
    if feature.window_months is not None:
        start = months_before(as_of, feature.window_months)
        cond = exp.and_(cond, exp.GT(this=_col("r", "decision_date"), expression=_day(start)))
    for key, value in sorted(feature.field_equals.items()):
        cond = exp.and_(cond, exp.EQ(this=_json_text(dialect, "r", key), expression=_s(value)))
    for key, values in sorted(feature.field_in.items()):
        cond = exp.and_(cond, _in(_json_text(dialect, "r", key), sorted(values)))
    return cond


def _case(cond: exp.Expr, then: exp.Expr) -> exp.Expr:
    return exp.Case(ifs=[exp.If(this=cond, true=then)], default=exp.Literal.number(0))


def _in_force_records(as_of: dt.date, exclude: Collection[int]) -> exp.Expr:
    cond = exp.and_(
        exp.EQ(this=_col("r", "status"), expression=_s("active")),
        exp.or_(
            exp.Is(this=_col("r", "decision_date"), expression=exp.Null()),
            exp.LTE(this=_col("r", "decision_date"), expression=_day(as_of)),
        ),
        exp.or_(
            exp.Is(this=_col("r", "public_until"), expression=exp.Null()),
            exp.GTE(this=_col("r", "public_until"), expression=_day(as_of)),
        ),
    )
    if exclude:
        ids = [exp.Literal.number(i) for i in sorted(exclude)]
        cond = exp.and_(cond, exp.Not(this=exp.In(this=_col("r", "id"), expressions=ids)))
    return cond


def _table(name: str, alias: str) -> exp.Expr:
    return exp.alias_(exp.table_(name, quoted=True), alias, table=True, quoted=True)


def _alias(expression: exp.Expr, name: str) -> exp.Expr:
    return exp.alias_(expression, name, quoted=True)


def _records_cte(
    indicators: list[Indicator], as_of: dt.date, dialect: str, exclude: Collection[int]
) -> exp.Select | None:
    columns: list[exp.Expr] = []
    items: set[str] = set()
    for indicator in indicators:
        feature = indicator.feature
        if not isinstance(feature, RecordFeature):
            continue
        items.update(feature.items)
        cond = _record_condition(feature, as_of, dialect)
        if feature.kind == "record_count":
            value: exp.Expr = exp.Literal.number(1)
        else:
            assert feature.amount_field is not None
            value = exp.func(
                "COALESCE",
                exp.cast(_json_text(dialect, "r", feature.amount_field), "double"),
                exp.Literal.number(0),
            )
        columns.append(_alias(exp.Sum(this=_case(cond, value)), indicator.code))
    if not columns:
        return None
    return (
        exp.select(_alias(_col("r", "subject_id"), "subject_id"), *columns)
        .from_(_table("records", "r"))
        .where(exp.and_(_in(_col("r", "item_code"), sorted(items)), _in_force_records(as_of, exclude)))
        .group_by(_col("r", "subject_id"))
    )


def _lists_cte(indicators: list[Indicator], as_of: dt.date) -> exp.Select | None:
    columns = [
        _alias(
            exp.Max(
                this=_case(
                    exp.EQ(this=_col("l", "list_type"), expression=_s(i.feature.list_type)),
                    exp.Literal.number(1),
                )
            ),
            i.code,
        )
        for i in indicators
        if isinstance(i.feature, ListFeature)
    ]
    if not columns:
        return None
    in_force = exp.and_(
        exp.EQ(this=_col("l", "status"), expression=_s("listed")),
        exp.LTE(this=_col("l", "decided_on"), expression=_day(as_of)),
        exp.or_(
            exp.Is(this=_col("l", "public_until"), expression=exp.Null()),
            exp.GTE(this=_col("l", "public_until"), expression=_day(as_of)),
        ),
    )
    return (
        exp.select(_alias(_col("l", "subject_id"), "subject_id"), *columns)
        .from_(_table("list_entries", "l"))
        .where(in_force)
        .group_by(_col("l", "subject_id"))
    )


def _commitments_cte(indicators: list[Indicator], as_of: dt.date) -> exp.Select | None:
    columns = []
    for i in indicators:
        feature = i.feature
        if not isinstance(feature, CommitmentFeature):
            continue
        cond: exp.Expr = _in(_col("c", "status"), COMMITMENT_STATUSES[feature.status])
        if feature.window_months is not None:
            start = months_before(as_of, feature.window_months)
            cond = exp.and_(cond, exp.GT(this=_col("c", "signed_on"), expression=_day(start)))
        columns.append(_alias(exp.Sum(this=_case(cond, exp.Literal.number(1))), i.code))
    if not columns:
        return None
    return (
        exp.select(_alias(_col("c", "subject_id"), "subject_id"), *columns)
        .from_(_table("commitments", "c"))
        .where(exp.LTE(this=_col("c", "signed_on"), expression=_day(as_of)))
        .group_by(_col("c", "subject_id"))
    )


def _external_cte(
    indicator: Indicator,
    feature: ExternalGradeFeature,
    as_of: dt.date,
    dialect: str,
    exclude: Collection[int],
) -> exp.Select:
    """The field of the subject's latest record in force of the item (by decision date, then id)."""
    ranked = (
        exp.select(
            _alias(_col("r", "subject_id"), "subject_id"),
            _alias(_json_text(dialect, "r", feature.field), "value"),
            _alias(
                exp.Window(
                    this=exp.RowNumber(),
                    partition_by=[_col("r", "subject_id")],
                    order=exp.Order(
                        expressions=[
                            exp.Ordered(this=_col("r", "decision_date"), desc=True, nulls_first=False),
                            exp.Ordered(this=_col("r", "id"), desc=True, nulls_first=False),
                        ]
                    ),
                ),
                "rn",
            ),
        )
        .from_(_table("records", "r"))
        .where(
            exp.and_(
                exp.EQ(this=_col("r", "item_code"), expression=_s(feature.item)),
                *(
                    exp.EQ(this=_json_text(dialect, "r", key), expression=_s(value))
                    for key, value in sorted(feature.field_equals.items())
                ),
                *(
                    [
                        exp.or_(
                            exp.Is(
                                this=_json_text(dialect, "r", feature.valid_until_field),
                                expression=exp.Null(),
                            ),
                            exp.GTE(
                                this=_json_text(dialect, "r", feature.valid_until_field),
                                expression=_day(as_of),
                            ),
                        )
                    ]
                    if feature.valid_until_field
                    else []
                ),
                _in_force_records(as_of, exclude),
            )
        )
    )
    return (
        exp.select(
            _alias(_col("x", "subject_id"), "subject_id"),
            _alias(exp.Max(this=_col("x", "value")), indicator.code),
        )
        .from_(exp.alias_(ranked.subquery(), "x", table=True, quoted=True))
        .where(exp.EQ(this=_col("x", "rn"), expression=exp.Literal.number(1)))
        # One row per subject already; grouped so that SQLite indexes the result for the join (it scanned the
        # whole window's output once per subject: minutes at 100,000 subjects).
        .group_by(_col("x", "subject_id"))
    )


def _model_grade_cte(indicator: Indicator, feature: ModelGradeFeature) -> exp.Select:
    return (
        exp.select(_alias(_col("g", "subject_id"), "subject_id"), _alias(_col("g", "grade"), indicator.code))
        .from_(_table("evaluation_grades", "g"))
        .where(exp.EQ(this=_col("g", "model_code"), expression=_s(feature.model)))
    )


Cte = tuple[str, exp.Select, list[Indicator], bool]  # name, query, its indicators, whether they count


def _ctes(
    model: Model, as_of: dt.date, dialect: str, exclude: Collection[int], subject_ids: Collection[int] | None
) -> list[Cte]:
    found = _all_ctes(model, as_of, dialect, exclude)
    if subject_ids is None:
        return found
    # Restricted runs (incremental, one subject's explanation) read only those subjects' rows.
    ids: list[exp.Expr] = [exp.Literal.number(i) for i in sorted(subject_ids)] or [exp.Null()]
    alias = {"rec": "r", "lst": "l", "com": "c"}
    restricted = []
    for name, query, indicators, counts in found:
        column = _col(alias.get(name, "x" if name.startswith("ext") else "g"), "subject_id")
        restricted.append((name, query.where(exp.In(this=column, expressions=ids)), indicators, counts))
    return restricted


def _all_ctes(model: Model, as_of: dt.date, dialect: str, exclude: Collection[int]) -> list[Cte]:
    indicators = list(model.indicators)
    ctes: list[Cte] = []
    records = _records_cte(indicators, as_of, dialect, exclude)
    if records is not None:
        ctes.append(("rec", records, [i for i in indicators if isinstance(i.feature, RecordFeature)], True))
    lists = _lists_cte(indicators, as_of)
    if lists is not None:
        ctes.append(("lst", lists, [i for i in indicators if isinstance(i.feature, ListFeature)], True))
    commitments = _commitments_cte(indicators, as_of)
    if commitments is not None:
        found = [i for i in indicators if isinstance(i.feature, CommitmentFeature)]
        ctes.append(("com", commitments, found, True))
    for n, i in enumerate(indicators):
        if isinstance(i.feature, ExternalGradeFeature):
            ctes.append((f"ext{n}", _external_cte(i, i.feature, as_of, dialect, exclude), [i], False))
        elif isinstance(i.feature, ModelGradeFeature):
            ctes.append((f"mdl{n}", _model_grade_cte(i, i.feature), [i], False))
    return ctes


def _where(model: Model, subject_ids: Collection[int] | None) -> exp.Expr:
    where: exp.Expr = _in(_col("s", "kind"), model.applies_to.subject_kinds)
    if model.applies_to.industries:  # industry models: subjects of their GB/T 4754 门类 or 大类 only
        where = exp.and_(
            where,
            exp.or_(
                *(
                    exp.Like(this=_col("s", "industry_code"), expression=_s(f"{code}%"))
                    for code in sorted(model.applies_to.industries)
                )
            ),
        )
    if model.applies_to.opt_in:
        consented = (
            exp.select(_col("k", "subject_id"))
            .from_(_table("evaluation_consents", "k"))
            .where(exp.EQ(this=_col("k", "model_code"), expression=_s(model.code)))
        )
        where = exp.and_(where, _col("s", "id").isin(query=consented))
    if subject_ids is not None:
        ids: list[exp.Expr] = [exp.Literal.number(i) for i in sorted(subject_ids)] or [exp.Null()]
        where = exp.and_(where, exp.In(this=_col("s", "id"), expressions=ids))
    return where


def _years(as_of: dt.date) -> exp.Expr:
    days = exp.DateDiff(
        this=exp.cast(_day(as_of), "date"),
        expression=exp.cast(_col("s", "registered_on"), "date"),
        unit=exp.var("DAY"),
    )
    years = exp.Floor(this=exp.Div(this=days, expression=exp.Literal.number("365.25")))
    # Guarded: SQLAlchemy's SQLite connection has a Python FLOOR that fails on NULL.
    unknown = exp.Is(this=_col("s", "registered_on"), expression=exp.Null())
    return exp.Case(ifs=[exp.If(this=unknown, true=exp.Null())], default=years)


def feature_expression(
    model: Model,
    *,
    as_of: dt.date,
    dialect: str,
    subject_ids: Collection[int] | None = None,
    exclude_record_ids: Collection[int] = (),
) -> exp.Select:
    """The feature query as a SQLGlot tree (see `feature_query`)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}: one of {', '.join(DIALECTS)}")
    ctes = _ctes(model, as_of, dialect, exclude_record_ids, subject_ids)
    owner = {i.code: (name, counts) for name, _, found, counts in ctes for i in found}
    columns: list[exp.Expr] = [_alias(_col("s", "id"), "subject_id")]
    for i in model.indicators:
        if i.feature.kind == "years_in_business":
            value: exp.Expr = _years(as_of)
        else:
            name, counts = owner[i.code]
            value = _col(name, i.code)
            if counts:  # no row: nothing counted
                value = exp.func("COALESCE", value, exp.Literal.number(0))
        columns.append(_alias(value, i.code))
    query = exp.select(*columns).from_(_table("subjects", "s"))
    for name, _, _, _ in ctes:
        query = query.join(
            exp.table_(name, quoted=True),
            on=exp.EQ(this=_col(name, "subject_id"), expression=_col("s", "id")),
            join_type="left",
        )
    query = query.where(_where(model, subject_ids)).order_by(_col("s", "id"))
    for name, cte, _, _ in ctes:
        query = query.with_(exp.to_identifier(name, quoted=True), as_=cte)
    return query


def feature_query(
    model: Model,
    *,
    as_of: dt.date,
    dialect: str,
    subject_ids: Collection[int] | None = None,
    exclude_record_ids: Collection[int] = (),
) -> str:
    """SQL (in `dialect`: 'sqlite' | 'postgres' | 'spark') returning one row per applicable subject:
    subject_id, then one column per indicator code holding the indicator's raw value (feature).

    `subject_ids` restricts the rows (incremental runs, one subject's explanation); `exclude_record_ids`
    leaves records out as if repaired (what a repair would change)."""
    return feature_expression(
        model, as_of=as_of, dialect=dialect, subject_ids=subject_ids, exclude_record_ids=exclude_record_ids
    ).sql(dialect=dialect)


_MARK = (
    -7_426_153_908
)  # stands for the subject ids while a restricted statement is compiled (ids are positive)


def per_subjects(build: Callable[[Collection[int]], str]) -> Callable[[Sequence[int]], str]:
    """A statement restricted to some subjects, compiled once and filled in per chunk of ids.

    `build` compiles the statement for a list of subject ids. Generating thousands of id literals through
    SQLGlot costs more than running the statement (about 0.6 ms an id: 6 s for an incremental run over 10,000
    subjects), so it is compiled once for a marker id and each chunk's ids (integers, nothing else) take the
    marker's place. The result is the very text `build(ids)` gives (a test holds them equal)."""
    marker = f"IN ({_MARK})"
    template = build([_MARK])
    if marker not in template:  # pragma: no cover - every restriction is an IN list
        return lambda ids: build(list(ids))

    def fill(ids: Sequence[int]) -> str:
        if not ids:
            return build([])
        return template.replace(marker, "IN (" + ", ".join(str(int(i)) for i in ids) + ")")

    return fill
