"""The CLI's one error: what the user asked for cannot be done, with the argument named."""

from __future__ import annotations


class UsageError(ValueError):
    """A bad argument: the command exits with status 2 and `argument <name>: <message>`, as
    argparse does for what it checks itself."""

    def __init__(self, argument: str, message: str) -> None:
        self.argument = argument
        super().__init__(f"argument {argument}: {message}")
