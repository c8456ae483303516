"""Lambda entry point of the key-age auditor (daily schedule)."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from access_key_auditor.audit import audit_iam, audit_kms, summary
from access_key_auditor.settings import AuditorConfig
from opskit.actions import Executor, error_code
from opskit.aws import Target
from opskit.handler import Invocation, Trigger, automation
from opskit.runner import TargetRun


def wait(seconds: float) -> None:
    """Between polls of the credential report (a module function, so tests can replace it)."""
    time.sleep(seconds)


@automation("access_key_auditor", config=AuditorConfig.from_env, triggers={Trigger.SCHEDULE},
            dispatch=True)
def lambda_handler(run: Invocation[AuditorConfig]) -> dict[str, Any]:
    config, now = run.config, run.now
    # IAM is global: audited once per account, in the stack's region (or the first target
    # region when the stack's is not a target).
    regions = config.common.target_regions
    iam_region = (regions[0] if regions and "all" not in regions
                  and config.common.home_region not in regions else config.common.home_region)

    def work(target: Target, executor: Executor) -> TargetRun:
        extra: dict[str, Any] = {"mode": config.mode.value}
        if target.region == iam_region:  # IAM is global: once per account
            extra["users_listed"] = audit_iam(
                target.session.client("iam"), target.session.client("secretsmanager"),
                executor, config, now=now, wait=wait)
        if config.check_kms:
            try:
                extra["kms_keys_checked"] = audit_kms(target.session.client("kms"), executor,
                                                      config)
            except (ClientError, BotoCoreError) as exc:
                # The IAM findings above still make the report; the KMS part says why it is not.
                extra["notes"] = [f"KMS keys not checked: {error_code(exc)}: {exc}"]
        return summary(executor, extra)

    return run.targets(work)
