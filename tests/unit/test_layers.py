"""The contract type behind `.importlinter`'s domain contracts (`tests/layering.py`): its sources are found,
so a module written tomorrow is checked, and an adapter is one by its name alone."""

from __future__ import annotations

import grimp
from importlinter.configuration import configure

from tests.layering import DomainForbiddenContract

configure()  # import-linter's settings (its timer), as its command line sets them


def graph(*imports: tuple[str, str]) -> grimp.ImportGraph:
    g = grimp.ImportGraph()
    for module in ("pkg", "pkg.dom", "pkg.dom.service", "pkg.dom.views", "pkg.dom.console_views", "pkg.root"):
        g.add_module(module)
    for importer, imported in imports:
        g.add_module(importer)
        g.add_module(imported)
        g.add_import(importer=importer, imported=imported)
    return g


def kept(g: grimp.ImportGraph, *, forbid_adapters: bool = True) -> bool:
    contract = DomainForbiddenContract(
        name="domain logic knows no root",
        session_options={"root_packages": ["pkg"]},
        contract_options={
            "packages": ["pkg.dom"],
            "adapters": ["views", "*_views"],
            "forbid_adapters": str(forbid_adapters),
            "forbidden_modules": ["pkg.root"],
        },
    )
    return contract.check(g, verbose=False).kept


def test_domain_logic_may_not_import_the_forbidden_module_directly_or_through_another() -> None:
    assert kept(graph())
    assert not kept(graph(("pkg.dom.service", "pkg.root")))
    assert not kept(graph(("pkg.dom.service", "pkg.dom.helpers"), ("pkg.dom.helpers", "pkg.root")))


def test_a_module_nobody_listed_is_a_source() -> None:
    assert not kept(graph(("pkg.dom.written_tomorrow", "pkg.root")))


def test_adapters_may_import_it_but_domain_logic_may_not_import_adapters() -> None:
    assert kept(graph(("pkg.dom.views", "pkg.root"), ("pkg.dom.console_views", "pkg.root")))
    assert not kept(graph(("pkg.dom.service", "pkg.dom.console_views")))
    assert kept(graph(("pkg.dom.service", "pkg.dom.console_views")), forbid_adapters=False)
