"""``terrane plan ENV...|--all``: the environments' resources, rendered offline."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from terrane.engine.cli import context, output
from terrane.engine.cli.output import count

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text
    from rich.tree import Tree

    from terrane.engine.results import Review, ReviewedResource

OFFLINE_NOTE = (
    "Rendered offline under Pulumi's mock runtime: nothing was read from or sent to a cloud, "
    "and identifiers are placeholders."
)
NO_ENVIRONMENTS = "no environments (add environments/<name>.yaml)"


@click.command("plan")
@click.argument("names", nargs=-1, metavar="ENV...")
@click.option("--all", "all_", is_flag=True, help="Every environment of the project.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the schema_version 1 plan as JSON on stdout: one ENV's plan object, or for several "
                   "ENVs (or --all) an array of them in name order.")
@click.pass_context
def command(ctx: click.Context, names: tuple[str, ...], all_: bool, as_json: bool) -> None:
    """Show what each ENV would create, with no credentials and no Pulumi CLI.

    Every environment is validated before any is rendered, and every resource checked against
    its provider's schema: a value an open enum does not know is a warning. The plan lists each
    component with the resources it owns and the settings a reviewer checks: who becomes
    cluster admin and who is granted what, traffic rules, routes, flow logs, then
    address ranges, zones, machine types and node counts, Kubernetes versions,
    endpoint access, encryption, retention, deletion protection and tags. It renders terrane's own
    program: a program named with --program runs only in the stack commands (preview shows it).
    """
    plans = context.engine(ctx).plans(*names, all=all_)
    note = context.offline_program_note(ctx)
    if note:
        output.stderr().print(note, markup=False)
    warnings = [warning for result in plans for warning in result.warnings]
    if warnings:
        console = output.stderr()
        for warning in warnings:
            console.print(f"warning: {warning}", markup=False)
    if as_json:
        documents = [result.to_dict() for result in plans]
        output.print_json(documents if all_ or len(documents) != 1 else documents[0])
        return
    if not plans:
        output.stderr().print(NO_ENVIRONMENTS, markup=False)
        return
    from terrane.engine.results import review

    console = output.stdout()
    for index, result in enumerate(plans):
        if index:
            console.print()
        _show(console, review(result))
    output.stderr().print(OFFLINE_NOTE)


def _show(console: Console, reviewed: Review) -> None:
    from terrane.engine.cli.tables import PlainTable
    from terrane.engine.results import flow

    console.print(_tree(reviewed))
    console.print()
    counts = PlainTable("RESOURCE TYPE", "COUNT")
    for type_, number in reviewed.count_by_type().items():
        counts.add_row(type_, str(number))
    console.print(counts)
    console.print(f"\n{_summary(reviewed)}", markup=False)
    if reviewed.outputs:
        console.print("\nOutputs:")
        for key, value in reviewed.outputs.items():
            console.print(f"  {key}: {flow(value)}", markup=False)


def _summary(reviewed: Review) -> str:
    resources = count(len(reviewed.resources), "resource")
    components = count(len(reviewed.components), "component")
    providers = f"{count(len(reviewed.providers), 'provider')} and " if reviewed.providers else ""
    return f"{reviewed.environment}: {resources} in {components} (plus {providers}the stack)."


def _tree(reviewed: Review) -> Tree:
    from rich.text import Text
    from rich.tree import Tree

    tree = Tree(Text.assemble((reviewed.environment, "bold"),
                              f": {reviewed.cloud}, account {reviewed.account}, region {reviewed.region or '-'}"))
    stack = tree.add(_label(reviewed.stack.name, reviewed.stack.type, "the stack"))
    for resource in reviewed.stack.resources:
        stack.add(_resource(resource))
    for provider in reviewed.providers:
        tree.add(_resource(provider, "provider"))
    for component in reviewed.components:
        owned = count(len(component.resources), "resource")
        node = tree.add(_label(component.name, component.type, f"component, {owned}"))
        for resource in component.resources:
            node.add(_resource(resource))
    return tree


def _resource(resource: ReviewedResource, role: str = "") -> Text:
    label = _label(resource.name, resource.type, role)
    if resource.import_id:
        label.append(f" adopts {resource.import_id}", "green")
    for setting in resource.settings:
        label.append(f"\n  {setting.shown}")
    return label


def _label(name: str, type_: str, role: str) -> Text:
    from rich.text import Text

    label = Text.assemble(name, " ", (type_, "cyan"))
    if role:
        label.append(f" ({role})", "dim")
    return label
