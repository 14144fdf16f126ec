"""The evaluation JSON API: a subject's grade explained item by item, and the models."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from xinyong.accounts.deps import require
from xinyong.accounts.policy import Principal
from xinyong.evaluation import explain, service
from xinyong.evaluation.schemas import EvaluationRead, ModelSummary
from xinyong.kit.identifiers import normalize_code
from xinyong.subjects import service as subjects
from xinyong.web.deps import PlatformDep, SessionDep, client_ip
from xinyong.web.ratelimit import rate_limited

router = APIRouter(tags=["evaluation"])


@router.get("/subjects/{uscc}/evaluation", response_model=EvaluationRead, dependencies=[rate_limited("api")])
def get_evaluation(
    uscc: str,
    request: Request,
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("public")],
    model: Annotated[
        str | None, Query(max_length=48, pattern=r"^[a-z][a-z0-9_]{1,47}$", description="评价模型代码")
    ] = None,
    purpose: Annotated[
        str | None, Query(max_length=200, description="查询事由（政府用户查看时必填）")
    ] = None,
) -> EvaluationRead:
    """Read a subject's credit grade explained item by item (its own account, government users with a stated
    purpose, or anyone where the credit office publishes the model's grades)."""
    subject = subjects.get_by_uscc(session, normalize_code(uscc)[:18])
    models = service.load_models(session, platform.catalog.item_codes, platform.settings.data_dir)
    return explain.explain(
        session,
        platform.catalog,
        models,
        principal,
        subject,
        model_code=model,
        purpose=purpose,
        ip=client_ip(request),
    )


@router.get("/evaluation/models", response_model=list[ModelSummary], dependencies=[rate_limited("api")])
def list_models(
    session: SessionDep,
    platform: PlatformDep,
    principal: Annotated[Principal, require("public")],
) -> list[ModelSummary]:
    """List the evaluation models and their versions."""
    models = service.load_models(session, platform.catalog.item_codes, platform.settings.data_dir)
    return [service.summary(m) for m in models.values()]
