"""Lambda entry point of the unused-resource cleanup (daily schedule)."""

from __future__ import annotations

from functools import cache
from typing import Any

from opskit.actions import Executor
from opskit.aws import Target, target_regions
from opskit.handler import Invocation, Trigger, automation
from opskit.runner import TargetRun
from resource_cleanup.cleanup import Cleaner, run_cleanup
from resource_cleanup.finders import Finder
from resource_cleanup.inventory import Inventories
from resource_cleanup.reread import Rereader
from resource_cleanup.settings import CleanupConfig


@automation("resource_cleanup", config=CleanupConfig.from_env, triggers={Trigger.SCHEDULE},
            dispatch=True)
def lambda_handler(run: Invocation[CleanupConfig]) -> dict[str, Any]:
    config, now = run.config, run.now
    # Each region read at most once in this invocation: a snapshot's volume may be elsewhere.
    inventories = Inventories(cache(lambda: tuple(target_regions(config.common))))

    def work(target: Target, executor: Executor) -> TargetRun:
        session = target.session
        elbv2, logs = session.client("elbv2"), session.client("logs")
        inventory = inventories.of(target)
        finder = Finder(elbv2, logs, config, target.account_id, now, inventory,
                        lambda: inventories.covered(target))
        rereader = Rereader(elbv2, logs, session.client("cloudtrail"), config, now, inventory)
        return run_cleanup(finder, Cleaner(inventory.ec2, elbv2, logs, config), rereader,
                           executor, config=config, now=now)

    return run.targets(work)
