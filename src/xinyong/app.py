"""The app factory: builds the FastAPI application from settings. Nothing happens at import time."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from xinyong import __version__
from xinyong.accounts import api as accounts_api
from xinyong.accounts import views as accounts_views
from xinyong.audit import views as audit_views
from xinyong.authorizations import views as authorizations_views
from xinyong.catalog import api as catalog_api
from xinyong.catalog import views as catalog_views
from xinyong.commitments import api as commitments_api
from xinyong.commitments import views as commitments_views
from xinyong.config import Settings, get_settings
from xinyong.content import views as content_views
from xinyong.evaluation import api as evaluation_api
from xinyong.evaluation import views as evaluation_views
from xinyong.lists import views as lists_views
from xinyong.measures import api as measures_api
from xinyong.measures import check_views as measures_check_views
from xinyong.measures import views as measures_views
from xinyong.notices import views as notices_views
from xinyong.objections import console_views as objections_console_views
from xinyong.objections import statistics_views as objection_statistics_views
from xinyong.objections import views as objections_views
from xinyong.platform import Platform, build_platform
from xinyong.records import api as records_api
from xinyong.records import views as records_views
from xinyong.registration import console_views as registration_console_views
from xinyong.registration import views as registration_views
from xinyong.repair import console_views as repair_console_views
from xinyong.repair import views as repair_views
from xinyong.reports import api as reports_api
from xinyong.reports import batch_views as reports_batch_views
from xinyong.reports import views as reports_views
from xinyong.subjects import api as subjects_api
from xinyong.subjects import views as subjects_views
from xinyong.supervision import account_views as supervision_account_views
from xinyong.supervision import public_views as supervision_public_views
from xinyong.supervision import task_views as supervision_task_views
from xinyong.supervision import views as supervision_views
from xinyong.web import apidocs, errors
from xinyong.web.middleware import HttpGuard
from xinyong.web.ratelimit import RateLimits
from xinyong.web.templating import build_templates


def create_app(settings: Settings | None = None, *, platform: Platform | None = None) -> FastAPI:
    """Build the portal, console and JSON API on one app."""
    settings = settings or (platform.settings if platform else get_settings())
    app = FastAPI(
        title="xinyong 公共信用信息平台 API",
        version=__version__,
        description='公共信用信息归集、公示与查询接口。Errors: `{"error": {"code", "message"}}`.',
        docs_url=None,  # /docs is served offline by web.apidocs; no /redoc (see there)
        redoc_url=None,
    )
    app.state.platform = platform or build_platform(settings)
    app.state.templates = build_templates()
    app.state.rate_limits = RateLimits(
        settings.rate_limit_storage,
        {
            "search": settings.rate_limit_search,
            "api": settings.rate_limit_api,
            "login": settings.rate_limit_login,
        },
    )
    errors.install(app)
    app.add_middleware(
        HttpGuard,
        secret=settings.secret_key.get_secret_value(),
        max_upload_mb=settings.max_upload_mb,
        max_body_mb=settings.max_body_mb,
        cookie_secure=settings.cookie_secure,
    )
    apidocs.install(app)
    app.mount("/static", StaticFiles(directory=str(resources.files("xinyong.web") / "static")), name="static")
    for module in (
        catalog_api,
        subjects_api,
        records_api,
        measures_api,
        evaluation_api,
        reports_api,
        commitments_api,
        accounts_api,
    ):
        app.include_router(module.router, prefix="/api/v1")
    for module in (
        subjects_views,
        catalog_views,
        records_views,
        accounts_views,
        audit_views,
        measures_views,
        measures_check_views,
        lists_views,
        content_views,
        repair_views,
        repair_console_views,
        objections_views,
        objections_console_views,
        objection_statistics_views,
        commitments_views,
        registration_views,
        registration_console_views,
        notices_views,
        reports_views,
        reports_batch_views,
        evaluation_views,
        supervision_public_views,
        supervision_account_views,
        supervision_task_views,
        supervision_views,
        authorizations_views,
    ):
        app.include_router(module.router)
    return app
