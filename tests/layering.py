"""An import-linter contract type for the domain packages (`.importlinter`): `forbidden`, with its sources
found rather than listed. The sources are every module of the packages named by `packages` (wildcards as in
import-linter, e.g. `xinyong.*`), less `excluded` ones and less the adapters, known by their names
(`adapters`: views, *_views, api, cli, jobs, deps). A new module is therefore checked from the day it is
written, and an adapter is one by its name alone. Adapters are forbidden to the sources too when
`forbid_adapters` is true."""

from __future__ import annotations

import fnmatch

from grimp import ImportGraph
from importlinter.application import output
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.domain import fields
from importlinter.domain.contract import ContractCheck
from importlinter.domain.helpers import module_expressions_to_modules
from importlinter.domain.imports import ModuleExpression


def is_adapter(module: str, patterns: set[str]) -> bool:
    name = module.rsplit(".", 1)[-1]
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def package_modules(
    graph: ImportGraph, packages: set[ModuleExpression], excluded: set[ModuleExpression]
) -> set[str]:
    """Every module of `packages` that is not in one of `excluded`; a package's own `__init__` is left out,
    since as a source it would stand for its whole package, adapters included."""
    found = {m.name for m in module_expressions_to_modules(graph, packages, as_packages=True)}
    out = {m.name for m in module_expressions_to_modules(graph, excluded, as_packages=True)}
    return {m for m in found - out if not graph.find_children(m)}


class DomainForbiddenContract(ForbiddenContract):
    type_name = "domain_forbidden"

    source_modules = fields.SetField(subfield=fields.ModuleExpressionField(), required=False)
    packages = fields.SetField(subfield=fields.ModuleExpressionField())
    excluded = fields.SetField(subfield=fields.ModuleExpressionField(), required=False)
    adapters = fields.SetField(subfield=fields.StringField())
    forbid_adapters = fields.BooleanField(required=False, default=False)

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        patterns: set[str] = self.adapters  # type: ignore[assignment]
        modules = package_modules(graph, self.packages, self.excluded or set())  # type: ignore[arg-type]
        self.source_modules = {  # type: ignore[assignment]
            ModuleExpression(m) for m in modules if not is_adapter(m, patterns)
        }
        if str(self.forbid_adapters).lower() == "true":
            self.forbidden_modules = self.forbidden_modules | {  # type: ignore[operator]
                ModuleExpression(m) for m in modules if is_adapter(m, patterns)
            }
        return super().check(graph, verbose)


class DomainLayersContract(ForbiddenContract):
    """The domains' layers, top first. The logic of a layer's packages (adapters left out, as in
    `domain_forbidden`) may not import any package of a layer above it, directly or through another module.
    Packages on one line are independent when written `a | b` (neither imports the other) and may import each
    other when written `a : b`."""

    type_name = "domain_layers"

    source_modules = fields.SetField(subfield=fields.ModuleExpressionField(), required=False)
    forbidden_modules = fields.SetField(subfield=fields.ModuleExpressionField(), required=False)
    layers = fields.ListField(subfield=fields.StringField())
    adapters = fields.SetField(subfield=fields.StringField())
    # Every package among `packages` (less `excluded`) must stand on a layer: a new domain is placed, not
    # left outside the contract.
    packages = fields.SetField(subfield=fields.ModuleExpressionField(), required=False)
    excluded = fields.SetField(subfield=fields.ModuleExpressionField(), required=False)

    def unplaced(self, graph: ImportGraph) -> list[str]:
        if not self.packages:
            return []
        placed = {e.expression for row in self.rows() for group in row for e in group}
        found = {m.name for m in module_expressions_to_modules(graph, self.packages)}  # type: ignore[arg-type]
        out = {m.name for m in module_expressions_to_modules(graph, self.excluded or set())}  # type: ignore[arg-type]
        return sorted(m for m in found - out - placed if graph.find_children(m))

    def rows(self) -> list[list[set[ModuleExpression]]]:
        """Each layer as its groups: the packages of a group may import each other, groups may not."""
        lines: list[str] = self.layers  # type: ignore[assignment]
        return [
            [{ModuleExpression(name.strip()) for name in group.split(":")} for group in line.split("|")]
            for line in lines
        ]

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        patterns: set[str] = self.adapters  # type: ignore[assignment]
        rows = self.rows()
        kept, chains = True, []
        for depth, row in enumerate(rows):
            above: set[ModuleExpression] = set().union(*(g for r in rows[:depth] for g in r))
            for group in row:
                forbidden = above.union(*(other for other in row if other is not group))
                if not forbidden:
                    continue
                modules = package_modules(graph, group, set())
                self.source_modules = {  # type: ignore[assignment]
                    ModuleExpression(m) for m in modules if not is_adapter(m, patterns)
                }
                self.forbidden_modules = forbidden  # type: ignore[assignment]
                result = super().check(graph, verbose)
                kept = kept and result.kept
                chains.extend(result.metadata["invalid_chains"])
        unplaced = self.unplaced(graph)
        return ContractCheck(
            kept=kept and not unplaced, warnings=[], metadata={"invalid_chains": chains, "unplaced": unplaced}
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        for package in check.metadata.get("unplaced", []):
            output.print_error(f"{package} stands on no layer: add it to a row of this contract.")
            output.new_line()
        super().render_broken_contract(check)
