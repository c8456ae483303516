"""Package size after `sam build`: the layer and each function, unzipped and zipped."""

from __future__ import annotations

import io
import os
import subprocess
import zipfile
from pathlib import Path

from bench._summary import record

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / ".aws-sam" / "build"
LAYER_TARGET_MIB = 5.0  # zipped


def _build() -> None:
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
           "SAM_CLI_TELEMETRY": "0"}
    sam = str(ROOT / ".venv" / "bin" / "sam")
    subprocess.run([sam, "build", "--region", "eu-west-1"], cwd=ROOT, env=env,  # noqa: S603
                   check=True, capture_output=True)


def _sizes(folder: Path) -> tuple[int, int, bool]:
    """(unzipped bytes, zipped bytes, holds boto3/botocore)."""
    raw = 0
    buffer = io.BytesIO()
    bundled = False
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                raw += path.stat().st_size
                archive.write(path, path.relative_to(folder))
            # A package of its own (python/boto3 in the layer, boto3 beside a function's
            # package), not a module named after it (the X-Ray SDK's ext/botocore patch).
            if path.is_dir() and path.name in {"boto3", "botocore"} and (
                    path.parent in (folder, folder / "python")):
                bundled = True
    return raw, len(buffer.getvalue()), bundled


def _mib(size: int) -> str:
    return f"{size / 1024 / 1024:.2f}"


def main() -> str:
    _build()
    rows = []
    layer_zipped = 0.0
    function_sizes: list[float] = []
    # The root's layer, and each nested application's function (the copy of the layer each
    # automation's template builds for a deployment on its own is not what the catalog ships).
    folders = [BUILD / "OpskitLayer", *sorted(BUILD.glob("*/*Function"))]
    for folder in folders:
        raw, zipped, bundled = _sizes(folder)
        if folder.name == "OpskitLayer":
            layer_zipped = zipped / 1024 / 1024
        else:
            function_sizes.append(zipped / 1024 / 1024)
        rows.append(f"| {folder.name} | {_mib(raw)} | {_mib(zipped)} | "
                    f"{'yes' if bundled else 'no'} |")
    verdict = "within" if layer_zipped <= LAYER_TARGET_MIB else "over"
    record("Layer after `sam build`, zipped", f"{layer_zipped:.2f} MiB, no boto3/botocore",
           f"{LAYER_TARGET_MIB:.0f} MiB")
    record("Each function package, zipped", f"{max(function_sizes, default=0.0):.2f} MiB")
    return "\n".join([
        "## Package size after `sam build`",
        "",
        f"Zipped with deflate, as Lambda receives them. The layer is {layer_zipped:.2f} MiB "
        f"zipped, {verdict} the {LAYER_TARGET_MIB:.0f} MiB target. Each function's package "
        "holds its own automation only (`CodeUri: ./` in its folder); the layer holds the "
        "dependencies. Both ship their bytecode (unchecked-hash `.pyc`), "
        "which saves compiling every module at every cold start.",
        "",
        "| artifact | unzipped (MiB) | zipped (MiB) | boto3/botocore inside |",
        "|---|---:|---:|---|",
        *rows,
    ])


if __name__ == "__main__":
    print(main())
