"""A model's scoring compiled to SQL, so a run on SQLite or PostgreSQL scores and stores inside the database.

`rules.evaluate` is the reference: this module builds, with SQLGlot, the same arithmetic as one query over the
compiled feature query (`compiler.feature_expression`) that returns, per subject, exactly what the service
stores for it — score, grade, the result document (`{"base", "adjustment", "external", "items": {code:
[value, points]}}`) and the vetoes that fired. A full run is then one `INSERT … SELECT` into
`evaluation_results`: no feature row travels to Python, nothing is held in memory, and the database writes the
rows as fast as it computes them (the write is set-based by construction).

Why SQL rather than vectorised Python: on PostgreSQL the feature query itself takes about 3 s for 100,000
subjects while fetching, scoring and sending back 100,000 result documents took more than ten times that; no
Python scoring, however vectorised, keeps a run within 1.5× the feature query once the rows have to cross the
wire twice. The scoring is simple enough to compile exactly: every indicator's points are one of a few
constants (each bin's or category's points, weighted and capped, computed here in Python with the reference's
own functions), so the database only picks a constant per indicator, adds them in the reference's order, clamps
and rounds the total, maps it to a grade and applies the vetoes. `tests/service/test_evaluation_engines.py`
holds the stored results equal, subject by subject, to `rules.evaluate` over the same feature rows.

Spark runs (and a model this module cannot compile, see `supported`) keep scoring in Python.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Collection, Mapping
from typing import Any

from sqlglot import exp

from xinyong.evaluation import compiler
from xinyong.evaluation.schemas import Indicator, ModelFile

NUMERIC_KINDS = (
    "record_count",
    "record_amount_sum",
    "list_in_force",
    "commitment_count",
    "years_in_business",
)
INTEGER_KINDS = ("record_count", "list_in_force", "commitment_count", "years_in_business")
RESULT_COLUMNS = ("run_id", "subject_id", "score", "grade", "indicators", "vetoes", "inputs")


def supported(model: ModelFile) -> bool:
    """Whether the model's scoring compiles to SQL: vetoes on numeric indicators only (a veto on a grade
    indicator is left to the reference, which reads a number out of a grade's text)."""
    kinds = {i.code: i.feature.kind for i in model.indicators}
    return all(kinds[v.indicator] in NUMERIC_KINDS for v in model.vetoes)


def _num(value: float) -> exp.Expr:
    return exp.Literal.number(repr(float(value)))  # always with a point: never integer arithmetic


def _q(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _round(value: exp.Expr, digits: int, dialect: str) -> exp.Expr:
    places = exp.Literal.number(digits)
    if dialect == "postgres":  # round(double, int) does not exist: through numeric and back
        rounded = exp.Round(this=exp.cast(value, "decimal"), decimals=places)
        return exp.cast(rounded, "double")
    return exp.Round(this=value, decimals=places)


def _final_points(indicator: Indicator, raw: float) -> float:
    """The reference's weighting and caps of one raw points value (`rules.indicator_score`)."""
    points = raw * indicator.weight
    if indicator.min_points is not None:
        points = max(points, indicator.min_points)
    if indicator.max_points is not None:
        points = min(points, indicator.max_points)
    return round(points, 4)


def _missing_points(indicator: Indicator, policy: str) -> float:
    rule = indicator.missing or policy
    if rule == "neutral":
        return 0.0
    points = [b.points for b in indicator.bins] or list(indicator.categories.values())
    return min(points) if rule == "worst" else max(points)


def _value(indicator: Indicator, dialect: str) -> exp.Expr:
    """The feature as the reference sees it (`results.plain_feature`): numbers rounded to 6 places."""
    column = _q(indicator.code)
    if indicator.feature.kind not in NUMERIC_KINDS:
        return column
    if indicator.feature.kind in INTEGER_KINDS:
        return column
    rounded = _round(exp.cast(column, "double"), 6, dialect)
    if dialect != "sqlite":
        return rounded
    # SQLite keeps an integral amount an integer (as the reference's document does: 3, not 3.0).
    whole = exp.cast(column, "int")
    return exp.Case(ifs=[exp.If(this=exp.EQ(this=column, expression=whole), true=whole)], default=rounded)


def _points(indicator: Indicator, value: exp.Expr, policy: str) -> exp.Expr:
    missing = _num(_final_points(indicator, _missing_points(indicator, policy)))
    ifs: list[exp.If] = []
    if indicator.categories:
        key = exp.Trim(this=exp.cast(value, "text"))
        for category, raw in indicator.categories.items():
            if category.strip() != category or not category:
                continue  # a key the reference's stripped lookup can never reach
            ifs.append(
                exp.If(
                    this=exp.EQ(this=key, expression=exp.Literal.string(category)),
                    true=_num(_final_points(indicator, raw)),
                )
            )
        return exp.Case(ifs=ifs, default=missing)
    ifs.append(exp.If(this=exp.Is(this=value, expression=exp.Null()), true=missing))
    for b in indicator.bins:
        points = _num(_final_points(indicator, b.points))
        if b.upto is None:
            return exp.Case(ifs=ifs, default=points)
        ifs.append(exp.If(this=exp.LTE(this=value, expression=_num(b.upto)), true=points))
    raise AssertionError("a validated indicator ends with an open bin")


def _json_value(value: exp.Expr, *, text: bool, dialect: str = "") -> exp.Expr:
    """A value as JSON text: a number as it prints, a text quoted, NULL as null."""
    printed: exp.Expr = exp.cast(value, "text")
    if text:
        if dialect == "postgres":
            printed = exp.cast(exp.Anonymous(this="to_json", expressions=[printed]), "text")
        else:
            printed = exp.Anonymous(this="json_quote", expressions=[printed])
    return exp.func("COALESCE", printed, exp.Literal.string("null"))


def _grade_rank(model: ModelFile, score: exp.Expr) -> exp.Expr:
    ifs = [
        exp.If(this=exp.GTE(this=score, expression=_num(g.min_score)), true=exp.Literal.number(n))
        for n, g in enumerate(model.grades)
    ]
    return exp.Case(ifs=ifs, default=exp.Literal.number(len(model.grades) - 1))


def _document(model: ModelFile, dialect: str) -> exp.Expr:
    """The result document (`results.result_document`) as JSON text built by the database."""
    indicators = list(model.indicators)
    # The document is written as JSON text by concatenation (codes match the model's
    # code pattern, numbers print as JSON numbers, text values are quoted by the database's JSON quoting):
    # PostgreSQL's jsonb_build_object nesting costs several times the feature query itself.
    pieces: list[exp.Expr] = [
        exp.Literal.string(f'{{"base": {_num(model.base_score).this}, "adjustment": '),
        _json_value(_q("adjustment"), text=False),
        exp.Literal.string(', "external": '),
        exp.Case(
            ifs=[exp.If(this=_q("external"), true=exp.Literal.string("true"))],
            default=exp.Literal.string("false"),
        ),
        exp.Literal.string(', "items": {'),
    ]
    for n, i in enumerate(indicators):
        textual = i.feature.kind not in NUMERIC_KINDS
        pieces += [
            exp.Literal.string(f'{", " if n else ""}"{i.code}": ['),
            _json_value(_q(f"{i.code}:v"), text=textual, dialect=dialect),
            exp.Literal.string(", "),
            _json_value(_q(f"{i.code}:p"), text=False),
            exp.Literal.string("]"),
        ]
    pieces.append(exp.Literal.string("}}"))
    document: exp.Expr = pieces[0]
    for piece in pieces[1:]:
        document = exp.DPipe(this=document, expression=piece, safe=True)
    if dialect == "postgres":  # a `json` column (migration 0021): the text is checked, not converted
        document = exp.cast(document, "json")
    return document


def _vetoes(fired: list[str], dialect: str) -> exp.Expr:
    """The codes of the vetoes that fired, as a JSON array in the model's order."""
    # Veto codes match the model's code pattern ([a-z0-9_]): safe inside a JSON string as they are.
    listed: exp.Expr = exp.Literal.string("")
    for code in fired:
        part = exp.Case(
            ifs=[exp.If(this=_q(f"{code}:veto"), true=exp.Literal.string(f',"{code}"'))],
            default=exp.Literal.string(""),
        )
        listed = exp.DPipe(this=listed, expression=part, safe=True)
    vetoes: exp.Expr = exp.DPipe(
        this=exp.DPipe(
            this=exp.Literal.string("["),
            expression=exp.Substring(this=listed, start=exp.Literal.number(2)),
            safe=True,
        ),
        expression=exp.Literal.string("]"),
        safe=True,
    )
    if dialect == "postgres":
        vetoes = exp.cast(vetoes, "json")
    return vetoes


def scored_expression(model: ModelFile, *, dialect: str, features_table: str) -> exp.Select:
    """One row per subject of `features_table` (the run's feature rows, `features_table_sql`) whose inputs
    differ from those of its current result under the model, or who has none: subject_id, score, grade,
    indicators (the result document, JSON), vetoes (JSON array of the codes that fired), as `rules.evaluate`
    and `results.result_document` give them, and inputs (`_inputs`: what the result is a function of)."""
    if not supported(model):
        raise ValueError(f"model {model.code} cannot be scored in SQL")
    features = exp.alias_(exp.table_(features_table, quoted=True), "f", table=True, quoted=True)
    indicators = list(model.indicators)
    # The layers that compute what later layers read several times are MATERIALIZED common table expressions:
    # a flattened subquery would copy its expression into every reference (SQLite's and PostgreSQL's planners
    # both substitute), and a score referenced by each grade threshold would re-add every indicator's points.
    # Layer "v": each indicator's value as the reference reads it (computed once per subject).
    values: list[exp.Expr] = [_q("subject_id")]
    values += [exp.alias_(_value(i, dialect), f"{i.code}:v", quoted=True) for i in indicators]
    value_rows = exp.select(*values).from_(features)
    # The result's inputs, computed with the values: the subjects whose inputs are those of their current result
    # stop here, so points, score, grade and document are computed for the others only.
    inputs = _inputs(model, dialect)
    current = exp.alias_(exp.to_table("evaluation_grades", quoted=True), "cur", table=True, quoted=True)
    same = exp.and_(
        exp.column("model_code", table="cur", quoted=True).eq(exp.Literal.string(model.code)),
        exp.column("subject_id", table="cur", quoted=True).eq(
            exp.column("subject_id", table="s0", quoted=True)
        ),
    )
    known = exp.column("inputs", table="cur", quoted=True)
    value_rows = (
        exp.select(
            exp.Column(this=exp.Star(), table=exp.to_identifier("s0", quoted=True)),
            exp.alias_(inputs, "inputs", quoted=True),
        )
        .from_(value_rows.subquery("s0"))
        .join(current, on=same, join_type="left")
        .where(exp.or_(known.is_(exp.null()), exp.NEQ(this=known, expression=inputs.copy())))
    )
    # Layer "t": each indicator's points and the total, in the reference's order of addition.
    level1: list[exp.Expr] = [exp.Star()]
    for i in indicators:
        level1.append(
            exp.alias_(_points(i, _q(f"{i.code}:v"), model.missing_data), f"{i.code}:p", quoted=True)
        )
    points = exp.select(*level1).from_(exp.table_("v", quoted=True))
    # Level 2: the total, in the reference's order of addition, and its clamp.
    total: exp.Expr = _q(f"{indicators[0].code}:p")
    for i in indicators[1:]:
        total = exp.Add(this=total, expression=_q(f"{i.code}:p"))
    total = exp.Add(this=_num(model.base_score), expression=exp.Paren(this=total))
    clamped: exp.Expr = _q("total")
    if model.score_range is not None:
        low, high = model.score_range
        clamped = exp.Case(
            ifs=[
                exp.If(this=exp.LT(this=_q("total"), expression=_num(low)), true=_num(low)),
                exp.If(this=exp.GT(this=_q("total"), expression=_num(high)), true=_num(high)),
            ],
            default=_q("total"),
        )
    level2 = exp.select(exp.Star()).from_(points.subquery("p"))
    level2 = level2.select(exp.alias_(total, "total", quoted=True))
    # Then the score and the cut of the score range (cheap: read from "t").
    level3 = exp.select(exp.Star()).from_(exp.table_("t", quoted=True))
    level3 = level3.select(
        exp.alias_(_round(clamped, 4, dialect), "score", quoted=True),
        exp.alias_(
            _round(exp.Sub(this=clamped, expression=_q("total")), 4, dialect), "adjustment", quoted=True
        ),
    )
    # Level 4: grade (the external grade when the model takes one), vetoes.
    names = [g.grade for g in model.grades]
    rank = _grade_rank(model, _q("score"))
    external: exp.Expr = exp.false()
    if model.grade_from_indicator is not None:
        given = exp.cast(_q(f"{model.grade_from_indicator}:v"), "text")
        external = exp.In(this=given, expressions=[exp.Literal.string(g) for g in names])
        rank = exp.Case(
            ifs=[
                exp.If(this=exp.EQ(this=given, expression=exp.Literal.string(g)), true=exp.Literal.number(n))
                for n, g in enumerate(names)
            ],
            default=rank,
        )
    fired: list[tuple[str, exp.Expr]] = []
    for veto in model.vetoes:
        condition = exp.GTE(this=_q(f"{veto.indicator}:v"), expression=_num(veto.at_least))
        fired.append((veto.code, condition))
    if fired:
        rank = exp.Greatest(
            this=rank,
            expressions=[
                exp.Case(
                    ifs=[exp.If(this=cond, true=exp.Literal.number(names.index(v.grade)))],
                    default=exp.Literal.number(0),
                )
                for v, (_, cond) in zip(model.vetoes, fired, strict=True)
            ],
        )
    grade = exp.Case(  # a simple CASE: the rank is computed once
        this=_q("rank"),
        ifs=[exp.If(this=exp.Literal.number(n), true=exp.Literal.string(g)) for n, g in enumerate(names)],
        default=exp.Literal.string(names[-1]),
    )
    level4 = exp.select(exp.Star()).from_(level3.subquery("s"))
    level4 = level4.select(
        exp.alias_(rank, "rank", quoted=True),
        exp.alias_(
            exp.Case(ifs=[exp.If(this=external, true=exp.true())], default=exp.false()),
            "external",
            quoted=True,
        ),
        *[exp.alias_(cond, f"{code}:veto", quoted=True) for code, cond in fired],
    )
    document, vetoes = _document(model, dialect), _vetoes([code for code, _ in fired], dialect)
    scored = exp.select(
        _q("subject_id"),
        _q("score"),
        exp.alias_(grade, "grade", quoted=True),
        exp.alias_(document, "indicators", quoted=True),
        exp.alias_(vetoes, "vetoes", quoted=True),
        _q("inputs"),
    ).from_(level4.subquery("g"))
    return scored.with_(exp.to_identifier("v", quoted=True), as_=value_rows, materialized=True).with_(
        exp.to_identifier("t", quoted=True), as_=level2, materialized=True
    )


def insert_results_sql(model: ModelFile, *, run_id: int, dialect: str, features_table: str) -> str:
    """`INSERT INTO evaluation_results … SELECT`: the run's new or changed results, scored and written by the
    database from the run's feature rows (`features_table_sql`). A subject whose inputs are those of its
    current result keeps that result: nothing is written for it."""
    scored = scored_expression(model, dialect=dialect, features_table=features_table)
    rows = exp.select(
        exp.alias_(exp.Literal.number(int(run_id)), "run_id", quoted=True),
        *[_q(c) for c in RESULT_COLUMNS[1:]],
    ).from_(scored.subquery("r"))
    statement = exp.insert(
        rows,
        exp.to_table("evaluation_results", quoted=True),
        columns=[exp.to_identifier(c, quoted=True) for c in RESULT_COLUMNS],
    )
    return statement.sql(dialect=dialect)


def features_table_sql(
    model: ModelFile,
    *,
    table: str,
    as_of: dt.date,
    dialect: str,
    subject_ids: Collection[int] | None = None,
    create: bool = True,
) -> str:
    """The run's feature rows into a temporary table: `CREATE TEMPORARY TABLE … AS` the feature query (all
    subjects, or the first chunk of an incremental run's), or `INSERT INTO` it (the next chunks).

    PostgreSQL runs the aggregate of a CREATE TABLE AS with parallel workers, never that of an INSERT …
    SELECT: computing the features first and scoring them from the table keeps the run as fast as the feature
    query alone. The table is also the run's list of the subjects it evaluated (its grade counts)."""
    query = compiler.feature_expression(model, as_of=as_of, dialect=dialect, subject_ids=subject_ids)
    if not create:
        return exp.insert(query, exp.to_table(table, quoted=True)).sql(dialect=dialect)
    statement = exp.Create(
        this=exp.to_table(table, quoted=True),
        kind="TABLE",
        expression=query,
        properties=exp.Properties(expressions=[exp.TemporaryProperty()]),
    )
    return statement.sql(dialect=dialect)


def model_digest(model: ModelFile) -> str:
    """What a model's results are a function of besides the feature values: the model's whole definition
    (not whether its grades are published). A new version, or an edited file, gives every subject a new
    result."""
    definition = model.model_dump_json(exclude={"publish_grades"})
    return hashlib.sha256(definition.encode("utf-8")).hexdigest()[:16]


def _inputs(model: ModelFile, dialect: str) -> exp.Expr:
    """`inputs`: the model's digest and each indicator's value as the reference reads it, `digest:v1|v2|…`
    (`inputs_text` in Python). Equal inputs give the same score, grade, document and vetoes."""
    text: exp.Expr = exp.Literal.string(f"{model_digest(model)}:")
    for n, i in enumerate(model.indicators):
        if n:
            text = exp.DPipe(this=text, expression=exp.Literal.string("|"), safe=True)
        value = _json_value(_q(f"{i.code}:v"), text=i.feature.kind not in NUMERIC_KINDS, dialect=dialect)
        text = exp.DPipe(this=text, expression=value, safe=True)
    return text


def inputs_text(model: ModelFile, digest: str, values: Mapping[str, Any]) -> str:
    """The `inputs` of a result scored in Python (`results.plain_feature` values; `digest`: `model_digest`,
    computed once per run), as the database writes them where it can (a number that prints differently only
    stores the same result once more)."""

    def printed(value: Any) -> str:
        if value is None:
            return "null"
        if isinstance(value, str):
            return json.dumps(value, ensure_ascii=False)
        return repr(value)

    return f"{digest}:" + "|".join(printed(values.get(i.code)) for i in model.indicators)
