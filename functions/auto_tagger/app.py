"""Lambda entry point of the auto-tagger (CloudTrail create calls; daily required-tags sweep)."""

from __future__ import annotations

from typing import Any

from auto_tagger.resources import EXTRACTORS
from auto_tagger.settings import TaggerConfig
from auto_tagger.sweep import sweep
from auto_tagger.taggers import Taggers
from auto_tagger.tagging import skip_reason, tag_call
from opskit.actions import Executor
from opskit.aws import Target
from opskit.cloudtrail import read_call, record_ids
from opskit.handler import Invocation, Skip, Trigger, automation
from opskit.runner import TargetRun


@automation("auto_tagger", config=TaggerConfig.from_env,
            triggers={Trigger.API_CALL, Trigger.SCHEDULE}, dispatch=True)
def lambda_handler(run: Invocation[TaggerConfig]) -> dict[str, Any]:
    config = run.config
    if run.trigger is Trigger.SCHEDULE:
        def run_sweep(target: Target, executor: Executor) -> TargetRun:
            return sweep(target.session.client("resourcegroupstaggingapi"), executor, config)

        return run.targets(run_sweep)
    call = read_call(run.event, own_role_name=config.own_role_name, handled=EXTRACTORS,
                     unhandled="{name} is not a supported create call")
    why = skip_reason(call, config)
    if why is not None:
        raise Skip(why, record_ids(run.event))

    def work(target: Target, executor: Executor) -> TargetRun:
        return tag_call(call, Taggers(target.session), executor, config)

    return run.targets(work, pairs=[(call.account, call.region)])
