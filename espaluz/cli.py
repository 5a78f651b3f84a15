"""The ``espaluz`` command.

Subcommands live next to the feature they belong to and are imported only when invoked, so that
``espaluz conjugate`` does not pay for the local stack's imports (and vice versa). To add one, add a
``name -> "module:attribute"`` entry to ``COMMANDS``; the attribute is a ``click.Command``.
"""

from __future__ import annotations

import importlib

import click

COMMANDS: dict[str, str] = {
    "dev": "espaluz.dev.commands:dev",
    "chat": "espaluz.dev.commands:chat",
    "migrate": "espaluz.storage.commands:migrate",
    "learner": "espaluz.storage.commands:learner",
    "dlq": "espaluz.ops.dlq:dlq",
    "templates": "espaluz.ops.templates:templates",
    "conjugate": "espaluz.spanish.commands:conjugate",
    "g2p": "espaluz.spanish.commands:g2p",
    "check": "espaluz.spanish.commands:check",
    "curriculum": "espaluz.curriculum.commands:curriculum",
    "exercise": "espaluz.curriculum.commands:exercise",
    "billing": "espaluz.billing.commands:billing",
    "costs": "espaluz.llm.commands:costs",
    "report": "espaluz.tutor.report:report",
    "tick": "espaluz.scheduler.commands:tick",
}


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


@click.group(cls=LazyGroup)
@click.version_option(package_name="espaluz")
def main() -> None:
    """Espaluz: a Spanish tutor that lives on WhatsApp."""


if __name__ == "__main__":
    main()
