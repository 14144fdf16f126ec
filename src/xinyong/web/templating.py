"""Jinja2 environment: one loader over the shared layout and every domain's templates/ folder."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from xinyong.kit import regions
from xinyong.kit.dates import format_china_date, format_china_datetime
from xinyong.web.navigation import ACCOUNT_MENU, CONSOLE_MENU, may_open_in_template

DOMAINS_WITH_PAGES = (
    "web",
    "catalog",
    "subjects",
    "records",
    "accounts",
    "audit",
    "measures",
    "lists",
    "content",
    "repair",
    "objections",
    "commitments",
    "registration",
    "reports",
    "notices",
    "evaluation",
    "supervision",
    "authorizations",
)


def build_templates() -> Jinja2Templates:
    loaders = [
        FileSystemLoader(str(resources.files(f"xinyong.{d}") / "templates")) for d in DOMAINS_WITH_PAGES
    ]
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["region_name"] = regions.name
    env.filters["region_name"] = regions.name
    # Menus show a link only to those its route's permission allows: {% if may_open("/console/audit") %}.
    env.globals["may_open"] = may_open_in_template
    env.globals["CONSOLE_MENU"] = CONSOLE_MENU
    env.globals["ACCOUNT_MENU"] = ACCOUNT_MENU
    # Times on pages: China time in Chinese formats ({{ x.at | cn_datetime }}, {{ x.at | cn_datetime(seconds=True) }}).
    env.filters["cn_datetime"] = format_china_datetime
    env.filters["cn_date"] = format_china_date
    return Jinja2Templates(env=env)


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, name, context, status_code=status_code)
