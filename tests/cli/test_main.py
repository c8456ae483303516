"""The command line as a whole: help for every command, argument errors with status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.cli.conftest import Opskit

COMMANDS = ("plan", "invoke", "schedule", "check-policy", "permissions")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(opskit: Opskit, command: str) -> None:
    ran = opskit(command, "--help")
    assert ran.status == 0
    assert ran.out.startswith(f"usage: opskit {command}")


def test_the_top_level_help_lists_the_commands(opskit: Opskit) -> None:
    ran = opskit("--help")
    assert ran.status == 0
    for command in COMMANDS:
        assert command in ran.out


def test_a_command_is_required(opskit: Opskit) -> None:
    ran = opskit()
    assert ran.status == 2
    assert "COMMAND" in ran.err


@pytest.mark.parametrize("command", ["plan", "invoke", "permissions"])
def test_an_unknown_automation_is_named(opskit: Opskit, command: str) -> None:
    ran = opskit(command, "no_such_thing", *(["event.json"] if command == "invoke" else []))
    assert ran.status == 2
    assert "argument automation: invalid choice: 'no_such_thing'" in ran.err
    assert "instance_scheduler" in ran.err


def test_a_param_must_be_key_value(opskit: Opskit) -> None:
    ran = opskit("plan", "instance_scheduler", "--param", "DryRun")
    assert ran.status == 2
    assert "argument --param: 'DryRun' is not Key=Value" in ran.err


def test_the_console_script_is_installed() -> None:
    """`opskit` on PATH in the project's environment (pyproject's [project.scripts])."""
    script = f"{sys.prefix}/bin/opskit"
    argv = [script, "schedule", "daily 00:00-24:00", "--from", "2027-01-04", "--days", "1"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60,  # noqa: S603 - ours
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "Mon 2027-01-04" in done.stdout
    assert "running all day" in done.stdout
