"""Running the `opskit` command in-process: its exit status and what it printed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from opskit_cli.main import main


@dataclass
class Ran:
    status: int
    out: str
    err: str


Opskit = Callable[..., Ran]


@pytest.fixture
def opskit(capsys: pytest.CaptureFixture[str]) -> Opskit:
    """`opskit(*argv)`: the command's status (argparse's exit included), stdout and stderr."""

    def run(*argv: str) -> Ran:
        capsys.readouterr()
        try:
            status = main(list(argv))
        except SystemExit as exited:
            status = exited.code if isinstance(exited.code, int) else 1
        captured = capsys.readouterr()
        return Ran(status, captured.out, captured.err)

    return run
