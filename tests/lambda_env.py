"""The environment a function gets from `sam local invoke`, resolved by SAM CLI's own code.

SAM resolves `!Ref` of a parameter to its default and `!Ref` of a resource to its logical id (so
`ALERT_TOPIC_ARN` becomes `AlertTopic`); `--env-vars events/env.json` then overrides the variables
the template declares (`Parameters` for every function, a function's logical id for its own).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from unittest.mock import patch

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
ENV_VARS_FILE = ROOT / "events" / "env.json"
SHELL_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                     "AWS_DEFAULT_REGION", "AWS_REGION")


@dataclass(frozen=True)
class LocalFunction:
    logical_id: str
    handler: str  # module.function, e.g. instance_scheduler.app.lambda_handler
    full_path: str  # in the nested stacks: InstanceScheduler/InstanceSchedulerFunction

    @property
    def automation(self) -> str:
        return self.handler.split(".")[0]


@cache
def _provider(template: Path = TEMPLATE) -> Any:
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    stacks, _ = SamLocalStackProvider.get_stacks(str(template))
    return SamFunctionProvider(stacks)


def local_functions(template: Path = TEMPLATE) -> list[LocalFunction]:
    return sorted((LocalFunction(f.name, f.handler, f.full_path)
                   for f in _provider(template).get_all()),
                  key=lambda f: f.logical_id)


def env_vars_file() -> dict[str, Any]:
    values: dict[str, Any] = json.loads(ENV_VARS_FILE.read_text())
    return values


def sam_local_environment(function: LocalFunction, region: str,
                          env_vars: dict[str, Any] | None = None,
                          template: Path = TEMPLATE) -> dict[str, str]:
    """Every variable `sam local invoke <function> --env-vars events/env.json` passes, the AWS_*
    ones included (credentials from the shell, as SAM reads them)."""
    from samcli.commands.local.lib.local_lambda import LocalLambdaRunner

    runner = LocalLambdaRunner(local_runtime=None, function_provider=_provider(template),
                               cwd=str(template.parent), real_path=str(template.parent),
                               aws_region=region,
                               env_vars_values=env_vars_file() if env_vars is None else env_vars)
    # SAM lets the shell's values win over the template's: a shell with only credentials.
    shell = {name: value for name, value in os.environ.items() if name in SHELL_CREDENTIALS}
    with patch.dict(os.environ, shell, clear=True):
        resolved: dict[str, str] = runner._make_env_vars(
            _provider(template).get(function.logical_id)).resolve()
    return resolved


@dataclass(frozen=True)
class Sample:
    """The sample event an automation is tried with outside the unit tests, and what it must do:
    run (dry-run, nothing done, no failed target), or be refused with `refusal` (a step that
    would write in dry-run, as a rotation step does)."""

    event: str
    refusal: str | None = None
    failed: int = 0  # actions the seed makes fail on purpose (a malformed schedule tag...)
    quiet: bool = False  # a run whose report is only logged (routine tagging is not news)
    # Calls the moto server lacks, answered in the built function's process instead (after
    # botocore has validated them against the runtime SDK): the deployment guard's answers.
    answered_operations: tuple[str, ...] = ()


SAMPLES: dict[str, Sample] = {
    "access_key_auditor": Sample("daily-audit.json"),
    "access_key_rotation": Sample(
        "create-secret.json",
        refusal="RotationError: createSecret planned, nothing changed: DRY_RUN is true"),
    "auto_tagger": Sample("ec2-run-instances.json", quiet=True),
    "iam_policy_guard": Sample("scheduled-sweep.json"),
    "deploy_guard": Sample("codepipeline-job.json",
                           answered_operations=("PutJobSuccessResult", "PutJobFailureResult",
                                                "GetJobDetails")),
    "instance_scheduler": Sample("scheduler-run.json", failed=1),  # "mon-fri 8h-19h"
    "log_shipper": Sample("reconcile-schedule.json"),
    "rds_backup": Sample("hourly-reconcile.json"),
    "resource_cleanup": Sample("daily-cleanup.json"),
    "s3_public_remediation": Sample("scheduled-sweep.json"),
    "self_healing": Sample("alarm-back-to-ok.json"),
    "sg_open_port_remediation": Sample("authorize-ssh-world.json"),
    "slack_notifier": Sample("sqs-alarm-metric.json"),
}
