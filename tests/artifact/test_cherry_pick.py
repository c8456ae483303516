"""The README's cherry-pick recipe, followed literally: one automation's folder and the layer,
copied into an empty SAM project, validate, build and run their sample event."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.artifact.test_built_artifact import REQUIRED, SDKS, run_built
from tests.conftest import load_event, make_alert_inbox, seed_event
from tests.lambda_env import ROOT, local_functions

AUTOMATION = "self_healing"
SAMPLE = "alarm-back-to-ok"
SAM = ROOT / ".venv" / "bin" / "sam"


def _sam(project: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PATH": f"{SAM.parent}:{os.environ['PATH']}",
                   "SAM_CLI_TELEMETRY": "0"}
    return subprocess.run(  # noqa: S603 (the project's own SAM CLI)
        [str(SAM), *arguments, "--template-file", f"functions/{AUTOMATION}/template.yaml",
         "--region", "eu-west-1"], cwd=project, env=environment, capture_output=True,
        text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty project with what the recipe copies: `functions/<automation>/` and
    `shared_layer/`, nothing else."""
    if not REQUIRED and not SAM.exists():
        pytest.skip("no SAM CLI in .venv")
    project = tmp_path_factory.mktemp("cherry-pick")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "functions" / AUTOMATION, project / "functions" / AUTOMATION,
                    ignore=ignore)
    shutil.copytree(ROOT / "shared_layer", project / "shared_layer", ignore=ignore)
    return project


def test_the_copied_automation_validates_alone(project: Path) -> None:
    validated = _sam(project, "validate", "--lint")
    assert validated.returncode == 0, validated.stdout + validated.stderr


@pytest.mark.parametrize("sdk", SDKS[-1:])
def test_the_copied_automation_builds_and_runs_its_sample(
        project: Path, sdk: str, endpoint: str, tmp_path: Path) -> None:
    built = _sam(project, "build")
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    build = project / ".aws-sam" / "build"
    assert sorted(p.name for p in build.iterdir() if p.is_dir()) == [
        "OpskitLayer", "SelfHealingFunction"]
    template = project / "functions" / AUTOMATION / "template.yaml"
    (function,) = local_functions(template)
    seed_event(AUTOMATION, SAMPLE)
    reports = make_alert_inbox()
    ran = run_built(function, sdk, endpoint, [load_event(f"{AUTOMATION}/{SAMPLE}.json")],
                    extra_environment={"ALERT_TOPIC_ARN": reports.topic_arn, "DRY_RUN": "true"},
                    tmp_path=tmp_path, build=build, template=template)
    (outcome,) = ran["results"]
    assert "error" not in outcome, outcome.get("traceback")
    assert outcome["result"]["automation"] == AUTOMATION
    assert ran["modules"]["opskit"].startswith(str(build / "OpskitLayer" / "python"))
