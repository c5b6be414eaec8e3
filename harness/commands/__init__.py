"""The ``harness`` command's groups beyond running an experiment, one module per concern.

``harness.cli`` holds the root group, ``run`` and the exit codes; each module
here defines its commands and is added to the root group by
``register_commands``. Errors stay ``HarnessError``s: only ``harness.cli.main``
turns them into messages and exit codes.
"""

from __future__ import annotations

import click

from harness.commands import gameday, load, reports


def register_commands(root: click.Group) -> None:
    for module in (reports, load, gameday):
        for command in module.COMMANDS:
            root.add_command(command)
