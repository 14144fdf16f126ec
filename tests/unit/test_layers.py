"""The contract type behind `.importlinter`'s domain contracts (`tests/layering.py`): its sources are found,
so a module written tomorrow is checked, and an adapter is one by its name alone."""

from __future__ import annotations

import grimp
from importlinter.configuration import configure

from tests.layering import DomainForbiddenContract, DomainLayersContract

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


def layered(*imports: tuple[str, str], packages: list[str] | None = None) -> bool:
    g = grimp.ImportGraph()
    for module in ("pkg", "pkg.top", "pkg.top.service", "pkg.mid", "pkg.mid.service", "pkg.peer", "pkg.side"):
        g.add_module(module)
    g.add_module("pkg.low")
    g.add_module("pkg.low.service")
    g.add_module("pkg.side.service")
    for importer, imported in imports:
        g.add_module(importer)
        g.add_module(imported)
        g.add_import(importer=importer, imported=imported)
    contract = DomainLayersContract(
        name="layers",
        session_options={"root_packages": ["pkg"]},
        contract_options={
            "layers": ["pkg.top", "pkg.mid : pkg.peer | pkg.side", "pkg.low"],
            "adapters": ["views", "*_views"],
            **({"packages": packages, "excluded": ["pkg.root"]} if packages else {}),
        },
    )
    return contract.check(g, verbose=False).kept


def test_a_layer_imports_its_own_row_and_below_but_nothing_above() -> None:
    assert layered(("pkg.top.service", "pkg.mid.service"), ("pkg.mid.service", "pkg.low.service"))
    assert layered(("pkg.mid.service", "pkg.peer.rules"), ("pkg.peer.rules", "pkg.mid.service"))
    assert not layered(("pkg.low.service", "pkg.mid.service"))
    assert not layered(("pkg.low.service", "pkg.low.helpers"), ("pkg.low.helpers", "pkg.top.service"))
    assert not layered(("pkg.mid.fresh", "pkg.top.service"))


def test_a_layer_s_adapters_may_import_any_layer() -> None:
    assert layered(("pkg.low.views", "pkg.top.service"), ("pkg.mid.console_views", "pkg.top"))


def test_groups_on_one_layer_are_independent_unless_joined_by_a_colon() -> None:
    assert layered(("pkg.mid.service", "pkg.peer.rules"), ("pkg.peer.rules", "pkg.mid.service"))
    assert not layered(("pkg.mid.service", "pkg.side.service"))
    assert not layered(("pkg.side.service", "pkg.peer.rules"))
    assert layered(("pkg.side.views", "pkg.mid.service"))  # an adapter may


def test_every_package_stands_on_a_layer() -> None:
    assert layered(packages=["pkg.*"])
    newcomer = (("pkg.newcomer", "pkg.low"), ("pkg.newcomer.service", "pkg.low.service"))
    assert not layered(*newcomer, packages=["pkg.*"])
    assert layered(("pkg.root.service", "pkg.low.service"), packages=["pkg.*"])  # excluded
