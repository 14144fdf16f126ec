"""What a page's navigation may show: a link is shown only when its route's declared permission allows the
viewer (`accounts.policy.allows`), read from the route table, so the menus never restate who may do what."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from jinja2 import pass_context
from starlette.routing import compile_path

from xinyong.accounts.policy import ANONYMOUS, Principal, allows

_TABLE = "navigation_routes"

# The section menus (href, label); base.html shows each entry only to whom may_open allows it.
CONSOLE_MENU = (
    ("/console", "数据归集"),
    ("/console/review", "待匹配主体"),
    ("/console/checks", "信用核查"),
    ("/console/reports", "批量信用报告"),
    ("/console/lists", "名单认定"),
    ("/console/repairs", "信用修复"),
    ("/console/repairs/recheck", "修复复核"),
    ("/console/objections", "异议处理"),
    ("/console/commitments", "承诺核查"),
    ("/console/registrations", "自愿注册核实"),
    ("/console/notices", "部门通知"),
    ("/console/measures", "措施清单管理"),
    ("/console/evaluation", "信用评价统计"),
    ("/console/evaluation/models", "评价模型管理"),
    ("/console/supervision", "分级分类监管"),
    ("/console/supervision/tasks", "约谈与培训"),
    ("/console/supervision/results", "抽查结果录入"),
    ("/console/content", "典型案例"),
    ("/console/users", "用户管理"),
    ("/console/account-requests", "开户审核"),
    ("/console/audit", "审计日志"),
    ("/statistics", "联合奖惩统计"),
    ("/statistics/repairs", "修复与异议统计"),
    ("/statistics/commitments", "承诺核查统计"),
)
ACCOUNT_MENU = (
    ("/account", "我的信用档案"),
    ("/account/notices", "修复告知"),
    ("/account/repairs", "信用修复"),
    ("/account/objections", "我的异议"),
    ("/account/commitments", "信用承诺"),
    ("/account/registrations", "自愿注册"),
    ("/account/evaluation", "信用评价"),
    ("/account/supervision", "监管检查"),
    ("/account/authorizations", "授权管理"),
    ("/account/authorized", "获得的授权"),
)


def _requirements(dependant: Any) -> Iterator[str]:
    for dependency in dependant.dependencies:
        permission = getattr(dependency.call, "permission", None)
        if isinstance(permission, str):
            yield permission
        yield from _requirements(dependency)


def _routes(app: FastAPI) -> Iterator[Any]:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - FastAPI before included routers became lazy
        yield from app.routes
    else:
        yield from iter_route_contexts(app.routes)


def _table(app: FastAPI) -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    """GET routes as (path pattern, permissions declared), built once per app."""
    table: list[tuple[re.Pattern[str], tuple[str, ...]]] | None = getattr(app.state, _TABLE, None)
    if table is None:
        table = []
        for route in _routes(app):
            dependant = getattr(route, "dependant", None)
            if dependant is None or "GET" not in (route.methods or ()):
                continue
            pattern, _, _ = compile_path(route.path)
            table.append((pattern, tuple(_requirements(dependant))))
        setattr(app.state, _TABLE, table)
    return table


def route_permissions(app: FastAPI, path: str) -> tuple[str, ...] | None:
    """The permissions the GET route at `path` declares; None when no route serves it."""
    path = path.split("?", 1)[0]
    for pattern, permissions in _table(app):
        if pattern.match(path):
            return permissions
    return None


def may_open(app: FastAPI, principal: Principal, path: str) -> bool:
    """True if the viewer may open the page at `path` (an unknown path is never shown)."""
    permissions = route_permissions(app, path)
    return permissions is not None and all(allows(principal, p) for p in permissions)


@pass_context
def may_open_in_template(context: Any, path: str) -> bool:
    """`{% if may_open("/console/audit") %}` in a template: for the request's principal."""
    request = context["request"]
    principal = getattr(request.state, "principal", None) or ANONYMOUS
    return may_open(request.app, principal, path)
