"""Bytecode for the methods `@dataclass` writes, shipped like a .pyc.

`@dataclass` writes each class's `__init__`, `__repr__`, `__eq__`... as source text and compiles
it when the class is defined: at every cold start, about 0.7 ms per frozen dataclass, some 20 ms
of a handler's import (bench/cold_start.py). The build compiles that text once: it imports the
package with `dataclasses`' `exec` recording each text and its code object, and writes them
(marshal, the .pyc format) beside the package as `_dataclasses.<magic>.bin`. At run time,
`install` makes `dataclasses` look the text up there before compiling it.

The text is the key, so a class whose fields changed since the build simply misses and is
compiled as before: the cache can make a definition faster, never different. A file written by
another Python version (its name carries the bytecode's magic number), or that cannot be read,
is ignored. Nothing here is ever needed for correctness.

    python -m opskit.codecache [--only <package>] <package folder> <module> [<module>...]

writes the file of the package in `<package folder>` (the build does, for the layer's `opskit`
and for each function's package), having imported the modules named; with `--only`, only the
dataclasses of that package (a function's file leaves out the layer's, which the layer ships).
"""

from __future__ import annotations

import builtins
import dataclasses
import importlib
import importlib.util
import marshal
import sys
from pathlib import Path
from types import CodeType
from typing import Any

FILE = f"_dataclasses.{importlib.util.MAGIC_NUMBER.hex()}.bin"
_CODE: dict[str, CodeType] = {}
# How many dataclass texts were compiled at run time (the artifact test wants none); the texts
# themselves are kept only while recording, so a process defining classes on the fly never
# grows because of this module.
_STATS = {"misses": 0}
_recording: dict[str, CodeType] | None = None
_recorded_prefix = ""  # only the dataclasses of modules whose name starts with it


def _exec(source: str | CodeType, globals_: dict[str, Any] | None = None,
          locals_: dict[str, Any] | None = None) -> None:
    """`exec` as `dataclasses` calls it, with the compiled text looked up first."""
    if isinstance(source, str):
        code = _CODE.get(source)
        if code is None:
            # dont_inherit: this module's `from __future__ import annotations` must not reach
            # the generated methods (their annotations would become strings naming internals).
            code = compile(source, "<string>", "exec", dont_inherit=True)
            _STATS["misses"] += 1
            module = str((globals_ or {}).get("__name__", ""))
            if _recording is not None and (module == _recorded_prefix or module.startswith(
                    f"{_recorded_prefix}.") or not _recorded_prefix):
                _recording[source] = code
        source = code
    builtins.exec(source, globals_, locals_)  # noqa: S102 - dataclasses' own generated code


def misses() -> int:
    """How many dataclass texts this process compiled instead of finding them in the cache."""
    return _STATS["misses"]


def load(package_file: str) -> int:
    """Adds the cache file beside `package_file` (a package's `__init__.py`), if any; returns
    how many texts it held. An unreadable or foreign file is ignored."""
    path = Path(package_file).with_name(FILE)
    try:
        # Written by the build into the same read-only package as the code it speeds up: as
        # trusted as the package's .pyc files, which Python loads with marshal too.
        entries = marshal.loads(path.read_bytes())  # noqa: S302
    except (OSError, ValueError, EOFError, TypeError):
        return 0
    if not isinstance(entries, dict):
        return 0
    found = {text: code for text, code in entries.items()
             if isinstance(text, str) and isinstance(code, CodeType)}
    _CODE.update(found)
    return len(found)


def install() -> None:
    """Makes `dataclasses` use the cache (idempotent)."""
    vars(dataclasses)["exec"] = _exec


def write(folder: Path, modules: list[str], only: str = "") -> Path:
    """Imports `modules` recording every dataclass text compiled meanwhile (only for classes of
    modules named `only...`, when given), and writes them to `folder/FILE`."""
    global _recording, _recorded_prefix  # one build process, one recording
    install()
    _recording, _recorded_prefix = {}, only
    try:
        for module in modules:
            importlib.import_module(module)
        entries = dict(_recording)
    finally:
        _recording, _recorded_prefix = None, ""
    target = folder / FILE
    target.write_bytes(marshal.dumps(entries))
    return target


def main(argv: list[str]) -> int:
    only = ""
    if argv[:1] == ["--only"] and len(argv) > 1:
        only, argv = argv[1], argv[2:]
    if len(argv) < 2:
        print("usage: python -m opskit.codecache [--only <package>] <package folder> "
              "<module>...", file=sys.stderr)
        return 2
    # Run as __main__, this file is a second copy of the module: the one `opskit` installed is
    # the one to record with.
    real = importlib.import_module("opskit.codecache")
    target: Path = real.write(Path(argv[0]), argv[1:], only)
    count = len(marshal.loads(target.read_bytes()))  # noqa: S302 - the file just written
    print(f"{target}: {count} dataclass method sets")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
