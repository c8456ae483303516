"""opskit.codecache against the standard library: a class made through the cache (hit or miss)
is the class Python makes, annotations and signature included, and the cache does not grow
with classes made at run time.

This file deliberately has NO `from __future__ import annotations`: with it, `compile()` in
this file would inherit the same flag as codecache's own `compile()`, and hide the difference
(as tests/opskit/test_codecache.py::test_the_cached_code_is_what_compile_makes does)."""

import dataclasses
import inspect
import marshal
import sys
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

from opskit import codecache

MODULE = '''\
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Window:
    start: int
    days: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)
'''


def _stdlib_class() -> type:
    """The class Python makes, with dataclasses' own exec (the cache uninstalled)."""
    namespace: dict[str, object] = {"__name__": "reference"}
    saved = vars(dataclasses)["exec"]
    vars(dataclasses)["exec"] = exec
    try:
        builtins_exec = exec
        builtins_exec(MODULE, namespace)
    finally:
        vars(dataclasses)["exec"] = saved
    window = namespace["Window"]
    assert isinstance(window, type)
    return window


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "semanticsdemo"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "windows.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(codecache, "_CODE", {})
    yield folder
    for name in [m for m in sys.modules if m.startswith("semanticsdemo")]:
        del sys.modules[name]


def _fresh(name: str) -> typing.Any:
    for module in [m for m in sys.modules if m.startswith("semanticsdemo")]:
        del sys.modules[module]
    return __import__(name, fromlist=["_"])


def test_a_miss_gives_init_the_annotations_python_gives_it(package: Path) -> None:
    """codecache compiles without inheriting its own `from __future__ import annotations`:
    otherwise every dataclass of a process that imported opskit would get `__init__`
    annotations naming dataclasses' private locals."""
    window = _fresh("semanticsdemo.windows").Window
    reference = _stdlib_class()
    assert window.__init__.__annotations__ == reference.__init__.__annotations__
    assert typing.get_type_hints(window.__init__) == typing.get_type_hints(
        reference.__init__)
    assert str(inspect.signature(window)) == str(inspect.signature(reference))


def test_a_hit_gives_init_the_annotations_python_gives_it(package: Path) -> None:
    codecache.write(package, ["semanticsdemo.windows"], only="semanticsdemo")
    codecache._CODE.clear()
    assert codecache.load(str(package / "__init__.py")) == 1
    before = codecache.misses()
    window = _fresh("semanticsdemo.windows").Window
    assert codecache.misses() == before  # it was a hit
    assert window.__init__.__annotations__ == _stdlib_class().__init__.__annotations__


def test_the_shipped_code_has_the_flags_dataclasses_would_compile_with(package: Path) -> None:
    target = codecache.write(package, ["semanticsdemo.windows"], only="semanticsdemo")
    entries = marshal.loads(target.read_bytes())  # noqa: S302 - written just above
    for text, code in entries.items():
        assert code.co_flags == compile(text, "<string>", "exec").co_flags  # this file: no
        # __future__ import, like dataclasses.py


def test_classes_made_at_run_time_keep_nothing() -> None:
    """A class made per call (make_dataclass, a dataclass defined in a function) in a warm
    container: counted, never kept."""
    cached, before = len(codecache._CODE), codecache.misses()
    for index in range(2000):
        dataclasses.make_dataclass("PerCall", [("a", int), ("b", str, dataclasses.field(
            default=str(index)))])
    assert len(codecache._CODE) == cached
    assert codecache.misses() >= before + 1
    assert codecache._recording is None
