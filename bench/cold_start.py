"""Cold start on the built artifact: each handler's import as Lambda loads it, against boto3's.

A Lambda cold start imports the handler module once; `import boto3` is the floor every Python
function pays. This measures what `sam build` ships (`make artifact` builds it):

- each function's folder `.aws-sam/build/<App>/<App>Function/` (Lambda's /var/task), the layer's
  `.aws-sam/build/OpskitLayer/python/` (/opt/python), both shipped with precompiled
  unchecked-hash `.pyc` files, and the runtime's boto3/botocore, emulated by the newest SDK of
  tests/artifact/runtime-sdks.txt in `.aws-sam/runtime-sdk/<version>/`. The runtime ships its SDK
  precompiled, so that folder is compiled first (`compileall -f --invalidation-mode
  unchecked-hash`: the same result every time, whatever bytecode earlier runs left there);
- each sample is a fresh interpreter, `python -I -S -B -c PROBE`: isolated (no user site, no
  PYTHON* variables, no script folder on sys.path), no site-packages (the venv's packages are
  invisible, as on Lambda), writing no bytecode (`-B`, since `-I` ignores
  PYTHONDONTWRITEBYTECODE, which is set too), with only Lambda's variables the code reads. The
  probe puts exactly [function folder, layer folder, SDK folder] at the front of sys.path and
  times the import with perf_counter, so interpreter start-up is excluded;
- each figure is the median of RUNS samples. The ratio is measured inside each sample: the
  probe times `import boto3`, then the handler's import (boto3 already loaded), and the ratio
  is (boto3 + handler) / boto3, which is what the handler's import costs over boto3's. Both
  parts are timed in the same interpreter a few milliseconds apart, so a machine that slows
  down or speeds up moves both together (separate interpreters gave ratios from 0.8 to 1.6 for
  the same build on a busy machine; this gives a spread of about 0.02); the target is
  TARGET_RATIO;
- the same handler imports with the shipped bytecode ignored (`-X pycache_prefix=` a fresh empty
  folder, where nothing is ever written: every module, standard library included, is compiled
  from source at import) show what the precompiled `.pyc` files save;
- one more run of the slowest handler under `-X importtime`, after `import boto3`, names the
  modules that cost the most on top of boto3.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench._summary import record

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".aws-sam" / "build"
LAYER = BUILD / "OpskitLayer" / "python"
SDK_ROOT = ROOT / ".aws-sam" / "runtime-sdk"
SDK_LIST = ROOT / "tests" / "artifact" / "runtime-sdks.txt"
RUNS = 11
TARGET_RATIO = 1.15
TOP_MODULES = 5
REGION = "eu-west-1"
PROBE = ("import sys, time\n"
         "sys.path[:0] = {path!r}\n"
         "started = time.perf_counter()\n"
         "{statement}\n"
         "print(time.perf_counter() - started)\n")
# boto3, then the handler, in one interpreter: "<boto3 seconds> <total seconds>".
PAIRED_PROBE = ("import sys, time\n"
                "sys.path[:0] = {path!r}\n"
                "started = time.perf_counter()\n"
                "import boto3\n"
                "middle = time.perf_counter()\n"
                "{statement}\n"
                "print(middle - started, time.perf_counter() - started)\n")
PROBE_TIMEOUT_S = 120


class ArtifactMissingError(RuntimeError):
    """The built artifact or the runtime SDK is not there."""


@dataclass(frozen=True, slots=True)
class Function:
    automation: str  # the handler's package, e.g. instance_scheduler
    folder: Path  # what Lambda unpacks in /var/task

    @property
    def statement(self) -> str:
        return f"import {self.automation}.app"


@dataclass(frozen=True, slots=True)
class Measure:
    function: Function
    seconds: float  # median, shipped bytecode
    ratio: float  # median of (handler sample / the boto3 sample just before it)
    source_seconds: float  # median, compiled from source at import


@dataclass(frozen=True, slots=True)
class ImportCost:
    module: str
    cumulative_us: int
    self_us: int


def _missing(what: Path) -> ArtifactMissingError:
    return ArtifactMissingError(f"{what.relative_to(ROOT)} is missing: run `make artifact` "
                                "first (sam build and the runtime SDKs)")


def functions() -> list[Function]:
    """Every function of the root build, by automation name."""
    if not BUILD.is_dir():
        raise _missing(BUILD)
    found = []
    for app in sorted(BUILD.glob("*/*Function/*/app.py")):
        folder = app.parent.parent
        if folder.is_symlink() or not folder.is_dir() or folder.parent.parent != BUILD:
            continue
        found.append(Function(app.parent.name, folder))
    if not found or not LAYER.is_dir():
        raise _missing(LAYER if found else BUILD / "*" / "*Function")
    return sorted(found, key=lambda function: function.automation)


def runtime_sdk() -> Path:
    """The newest runtime SDK the artifact is tested on, compiled as the runtime ships it."""
    versions = [line.split("#", 1)[0].strip() for line in SDK_LIST.read_text().splitlines()]
    newest = max((v for v in versions if v), key=lambda v: tuple(int(p) for p in v.split(".")))
    sdk = SDK_ROOT / newest
    if not (sdk / "boto3").is_dir() or not (sdk / "botocore").is_dir():
        raise _missing(sdk)
    subprocess.run(  # noqa: S603 - our own interpreter on our own build folder
        [sys.executable, "-m", "compileall", "-q", "-f", "--invalidation-mode", "unchecked-hash",
         str(sdk)], check=True, capture_output=True, timeout=PROBE_TIMEOUT_S)
    return sdk


def _environment(automation: str) -> dict[str, str]:
    # PYTHONTZPATH as the templates' Globals set it (tests/test_templates.py checks they agree).
    return {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONTZPATH": "", "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "POWERTOOLS_METRICS_NAMESPACE": "Opskit", "POWERTOOLS_SERVICE_NAME": automation,
            "PATH": os.environ.get("PATH", "")}


def _probe(folder: Path, sdk: Path, statement: str, automation: str,
           options: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    path = [str(folder), str(LAYER), str(sdk)]
    return subprocess.run(  # noqa: S603 - our own interpreter and a fixed statement
        [sys.executable, "-I", "-S", "-B", *options, "-c",
         PROBE.format(path=path, statement=statement)],
        env=_environment(automation), capture_output=True, text=True, check=True,
        cwd=tempfile.gettempdir(), timeout=PROBE_TIMEOUT_S)


def _sample(folder: Path, sdk: Path, statement: str, automation: str,
            options: tuple[str, ...] = ()) -> float:
    return float(_probe(folder, sdk, statement, automation, options).stdout.split()[-1])


def _seconds(folder: Path, sdk: Path, statement: str, automation: str, *,
             from_source: bool = False) -> float:
    """Median import time of `statement` over RUNS fresh interpreters."""
    with tempfile.TemporaryDirectory(prefix="opskit-no-pyc-") as empty:
        options = ("-X", f"pycache_prefix={empty}") if from_source else ()
        samples = [_sample(folder, sdk, statement, automation, options) for _ in range(RUNS)]
        assert not any(Path(empty).iterdir()), "bytecode was written during the measure"
    return statistics.median(samples)


def _paired(function: Function, sdk: Path) -> tuple[float, float, list[float]]:
    """The handler's median import time (boto3 included), the median of the samples' ratios
    (boto3 + handler) / boto3, and the samples' boto3 times."""
    handler, ratios, baseline = [], [], []
    path = [str(function.folder), str(LAYER), str(sdk)]
    for _ in range(RUNS):
        done = subprocess.run(  # noqa: S603 - our own interpreter and a fixed statement
            [sys.executable, "-I", "-S", "-B", "-c",
             PAIRED_PROBE.format(path=path, statement=function.statement)],
            env=_environment(function.automation), capture_output=True, text=True, check=True,
            cwd=tempfile.gettempdir(), timeout=PROBE_TIMEOUT_S)
        boto3, total = (float(part) for part in done.stdout.split()[-2:])
        baseline.append(boto3)
        handler.append(total)
        ratios.append(total / boto3)
    return statistics.median(handler), statistics.median(ratios), baseline


def import_costs(function: Function, sdk: Path) -> list[ImportCost]:
    """The modules `import <handler>` loads on top of an already imported boto3, by cumulative
    import time (`-X importtime`, one run)."""
    done = _probe(function.folder, sdk, f"import boto3\n{function.statement}",
                  function.automation, ("-X", "importtime"))
    costs: list[ImportCost] = []
    after_boto3 = False
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, cumulative, name = (part.strip() for part in
                                 line.removeprefix("import time:").split("|", 2))
        if not own.isdigit():
            continue  # the header line
        if not after_boto3:
            after_boto3 = name == "boto3"  # the top-level boto3 line closes its imports
            continue
        costs.append(ImportCost(name, int(cumulative), int(own)))
    return sorted(costs, key=lambda cost: cost.cumulative_us, reverse=True)


def report(sdk: Path, boto3: float, boto3_source: float, measures: list[Measure],
           top: list[ImportCost]) -> str:
    rows = []
    for m in measures:
        ratio = m.ratio
        rows.append(f"| {m.function.automation} | {m.seconds * 1000:.0f} | {ratio:.2f}x "
                    f"| {'yes' if ratio <= TARGET_RATIO else 'no'} "
                    f"| {m.source_seconds * 1000:.0f} "
                    f"| {(m.source_seconds - m.seconds) * 1000:.0f} |")
    slowest = max(measures, key=lambda m: m.seconds)
    top_rows = [f"| {cost.module} | {cost.cumulative_us / 1000:.1f} "
                f"| {cost.self_us / 1000:.1f} |" for cost in top[:TOP_MODULES]]
    ratios = [m.ratio for m in measures]
    record(f"Cold start: handler import over `import boto3`, built artifact (median of {RUNS})",
           f"{min(ratios):.2f}x to {max(ratios):.2f}x", f"{TARGET_RATIO}x")
    within = sum(ratio <= TARGET_RATIO for ratio in ratios)
    return "\n".join([
        "## Cold start: handler import time on the built artifact",
        "",
        "What `make artifact` builds, loaded as Lambda loads it: each sample is a fresh "
        "`python -I -S -B` (no site-packages: the venv is invisible) whose sys.path starts with "
        "the function's folder (`.aws-sam/build/<App>/<App>Function`), the layer's "
        f"(`.aws-sam/build/OpskitLayer/python`) and the runtime SDK's (boto3 {sdk.name}, "
        "compiled to unchecked-hash `.pyc` as the runtime ships it); the import is timed inside "
        f"the interpreter (start-up excluded); median of {RUNS} each. Each sample times "
        "`import boto3` and then the handler's import in the same interpreter; the ratio is the "
        f"median of the {RUNS} samples' (boto3 + handler) / boto3. `import boto3` alone: "
        f"{boto3 * 1000:.0f} ms (median over every sample; "
        f"{boto3_source * 1000:.0f} ms compiled from source). The "
        f"target is {TARGET_RATIO}x `import boto3` or less: {within} of {len(measures)} "
        "handlers within. *from source*: the same import with the shipped `.pyc` files ignored "
        "(`-X pycache_prefix=` an empty folder, nothing written), every module compiled at "
        "import, standard library included; *bytecode saves* is the difference.",
        "",
        "| handler | import (ms) | ratio to `import boto3` | within target "
        "| from source (ms) | bytecode saves (ms) |",
        "|---|---:|---:|---|---:|---:|",
        *rows,
        "",
        f"Slowest handler, {slowest.function.automation}: the {TOP_MODULES} modules with the "
        "largest cumulative import time among those it imports after `import boto3` (one run "
        "under `-X importtime`; a module's cumulative time includes the modules it imports).",
        "",
        "| module | cumulative (ms) | self (ms) |",
        "|---|---:|---:|",
        *top_rows,
    ]) + "\n"


def main() -> str:
    found = functions()
    sdk = runtime_sdk()
    folder = found[0].folder  # boto3's baseline: any function folder, it imports none of it
    boto3_source = _seconds(folder, sdk, "import boto3", found[0].automation, from_source=True)
    measures, baseline = [], []
    for function in found:
        seconds, ratio, boto3_samples = _paired(function, sdk)
        baseline.extend(boto3_samples)
        measures.append(Measure(function, seconds, ratio,
                                _seconds(function.folder, sdk, function.statement,
                                         function.automation, from_source=True)))
    boto3 = statistics.median(baseline)
    slowest = max(measures, key=lambda m: m.seconds).function
    return report(sdk, boto3, boto3_source, measures, import_costs(slowest, sdk))


if __name__ == "__main__":
    print(main())
