"""opskit.codecache: the compiled methods of dataclasses, written at build time and looked up at
import. A cached class must be the class Python would have made; a stale, foreign or broken
file changes nothing."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import marshal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from opskit import codecache

MODULE = '''\
from __future__ import annotations
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Window:
    start: int
    end: int = 24
    days: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list, compare=False)
'''


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A package `cachedemo` whose module `windows` defines one dataclass; the cache starts
    empty and is restored afterwards."""
    folder = tmp_path / "cachedemo"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "windows.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(codecache, "_CODE", {})
    yield folder
    for name in [m for m in sys.modules if m.startswith("cachedemo")]:
        del sys.modules[name]


def fresh_import(name: str) -> object:
    for module in [m for m in sys.modules if m.startswith("cachedemo")]:
        del sys.modules[module]
    return importlib.import_module(name)


def test_installed_in_every_process_that_imports_opskit() -> None:
    assert vars(dataclasses)["exec"] is codecache._exec


def test_write_then_load_defines_the_class_without_compiling(package: Path) -> None:
    target = codecache.write(package, ["cachedemo.windows"], only="cachedemo")
    assert target.name == f"_dataclasses.{importlib.util.MAGIC_NUMBER.hex()}.bin"
    codecache._CODE.clear()
    assert codecache.load(str(package / "__init__.py")) == 1
    before = codecache.misses()
    module = fresh_import("cachedemo.windows")
    assert codecache.misses() == before
    window = module.Window(8, days=("mon",))  # type: ignore[attr-defined]
    # The class Python makes: defaults, factory, equality (notes not compared), repr, frozen,
    # slots, replace.
    assert window == module.Window(8, 24, ("mon",), ["other"])  # type: ignore[attr-defined]
    assert repr(window) == "Window(start=8, end=24, days=('mon',), notes=[])"
    with pytest.raises(dataclasses.FrozenInstanceError):
        window.start = 9  # type: ignore[misc]
    assert not hasattr(window, "__dict__")
    assert dataclasses.replace(window, end=19).end == 19
    assert hash(window) == hash(module.Window(8, days=("mon",)))  # type: ignore[attr-defined]


def test_the_cached_code_is_what_compile_makes(package: Path) -> None:
    target = codecache.write(package, ["cachedemo.windows"], only="cachedemo")
    entries = marshal.loads(target.read_bytes())  # noqa: S302 - written just above
    for text, code in entries.items():
        fresh = compile(text, "<string>", "exec", dont_inherit=True)
        assert code.co_code == fresh.co_code
        assert code.co_consts == fresh.co_consts


def test_only_keeps_the_package_s_own_dataclasses(package: Path) -> None:
    (package / "other.py").write_text(MODULE.replace("Window", "Other").replace(
        "notes: list[str] = field(default_factory=list, compare=False)", "flag: bool = False"))
    (package / "windows.py").write_text(MODULE + "from cachedemo import other\n")
    target = codecache.write(package, ["cachedemo.windows"], only="cachedemo.windows")
    assert len(marshal.loads(target.read_bytes())) == 1  # noqa: S302 - written just above


def test_a_changed_class_misses_and_is_compiled_as_before(package: Path) -> None:
    codecache.write(package, ["cachedemo.windows"], only="cachedemo")
    # A field renamed: the methods' text differs (a changed default would not: the methods
    # read defaults from the class, and the cached ones are right for it).
    (package / "windows.py").write_text(MODULE.replace("end: int = 24", "stop: int = 23"))
    codecache._CODE.clear()
    codecache.load(str(package / "__init__.py"))
    before = codecache.misses()
    module = fresh_import("cachedemo.windows")
    assert codecache.misses() == before + 1
    assert module.Window(8).stop == 23  # type: ignore[attr-defined]


@pytest.mark.parametrize("content", [
    b"", b"not marshal at all", marshal.dumps([1, 2]),
    marshal.dumps({"text": "not code", 3: compile("", "", "exec")})])
def test_a_broken_or_foreign_file_is_ignored(package: Path, content: bytes) -> None:
    (package / codecache.FILE).write_bytes(content)
    assert codecache.load(str(package / "__init__.py")) == 0
    assert codecache._CODE == {}
    module = fresh_import("cachedemo.windows")
    assert module.Window(1).start == 1  # type: ignore[attr-defined]


def test_another_python_s_file_is_not_read(package: Path) -> None:
    (package / "_dataclasses.00000000.bin").write_bytes(marshal.dumps({}))
    assert codecache.load(str(package / "__init__.py")) == 0


def test_main_writes_the_file_and_refuses_missing_arguments(
        package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert codecache.main(["--only", "cachedemo", str(package), "cachedemo.windows"]) == 0
    assert "1 dataclass method sets" in capsys.readouterr().out
    assert codecache.main([str(package)]) == 2
    assert "usage: python -m opskit.codecache" in capsys.readouterr().err
