"""The layer ships locked dependencies (exact versions, hashes); the tests run those versions."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

LAYER = Path(__file__).resolve().parent.parent / "shared_layer"
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)")


def _requirements(text: str) -> list[str]:
    """Logical lines (continuations joined), comments and blank lines left out."""
    joined = re.sub(r"\\\n", " ", text)
    lines = (line.split("#", 1)[0].strip() for line in joined.splitlines())
    return [line for line in lines if line]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def locked_layer() -> dict[str, str]:
    pins = {}
    for line in _requirements((LAYER / "requirements.txt").read_text()):
        match = PIN.match(line)
        assert match, f"not pinned with ==: {line}"
        assert "--hash=sha256:" in line, f"no hash: {line}"
        pins[match[1].lower().replace("_", "-")] = match[2]
    return pins


def test_every_layer_dependency_is_pinned_with_hashes() -> None:
    locked = locked_layer()
    assert "boto3" not in locked  # the runtime provides it
    assert "botocore" not in locked
    for requirement in _requirements((LAYER / "requirements.in").read_text()):
        assert _name(requirement) in locked, f"{requirement} is not in the lock: run make lock"


def test_the_tests_run_the_locked_versions_of_the_layers_direct_dependencies() -> None:
    locked = locked_layer()
    for requirement in _requirements((LAYER / "requirements.in").read_text()):
        name = _name(requirement)
        assert version(name) == locked[name], f"{name}: run make venv (the lock changed)"
