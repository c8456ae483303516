"""`opskit`: plan, invoke and explain the automations from a laptop (see docs/cli.md)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from opskit_cli import catalog
from opskit_cli.errors import UsageError

DESCRIPTION = """\
Try opskit's automations before deploying them, with the same handlers and layer:
plan one against your account (read-only), run a sample event through its handler on
an in-process moto account, check a Schedule tag or a bucket policy, list its IAM needs."""


def key_value(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not Key=Value (e.g. DryRun=true, "
                                         "ScheduleTagKey=Schedule)")
    return key.strip(), value


def positive_int(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="opskit", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    names = catalog.automations()
    param_help = ("a template parameter (DryRun, ScheduleTagKey...) or a variable of the "
                  "function (SCHEDULE_TAG_KEY...); repeatable")

    plan = commands.add_parser(
        "plan", help="what an automation would do in your account (dry run, read-only)",
        description="Run an automation's scheduled work against your AWS account in dry run. "
        "Every call that is not a read (Describe/List/Get/Head/Lookup/Search/BatchGet) is "
        "refused before it is sent. Prints the plan: resource, action, status and reason.")
    plan.add_argument("automation", choices=names, metavar="automation",
                      help=f"one of: {', '.join(names)}")
    plan.add_argument("--profile", help="AWS profile to use (default: the shell's credentials)")
    plan.add_argument("--region", action="append", metavar="REGION",
                      help="region to plan in; repeatable (default: the profile's region)")
    plan.add_argument("--param", action="append", type=key_value, default=[],
                      metavar="KEY=VALUE", help=param_help)
    plan.add_argument("--event", type=Path, metavar="FILE",
                      help="the scheduled event to run with (default: a Scheduler event of "
                      "now), e.g. events/rds_backup/hourly-reconcile.json")
    plan.add_argument("--json", action="store_true",
                      help="print the reports the function would publish (opskit.report/1)")
    plan.add_argument("--verbose", action="store_true",
                      help="show the function's structured logs on standard error")
    plan.add_argument("--quiet", action="store_true", help="no progress on standard error")

    invoke = commands.add_parser(
        "invoke", help="run one event through a handler, as Lambda would (moto by default)",
        description="Run one event through an automation's handler with a Lambda context and "
        "the environment its template gives it (parameter defaults, then --param). By default "
        "on an in-process moto account, so events/<automation>/*.json run without Docker or "
        "AWS. With --profile, on a real account, in dry run unless --live.")
    invoke.add_argument("automation", choices=names, metavar="automation",
                        help=f"one of: {', '.join(names)}")
    invoke.add_argument("event", type=Path, help="a JSON event file, e.g. "
                        "events/instance_scheduler/scheduler-run.json")
    where = invoke.add_mutually_exclusive_group()
    where.add_argument("--moto", action="store_true",
                       help="an in-process moto account (the default)")
    where.add_argument("--profile", help="a real account: this AWS profile's")
    invoke.add_argument("--live", action="store_true",
                        help="DRY_RUN=false: let the automation change things")
    invoke.add_argument("--region", help="the function's region (default: the event's, or "
                        "the profile's)")
    invoke.add_argument("--param", action="append", type=key_value, default=[],
                        metavar="KEY=VALUE", help=param_help)

    schedule = commands.add_parser(
        "schedule", help="check a Schedule tag value and show when the resource runs",
        description="Validate an instance_scheduler Schedule tag value and print the days "
        "ahead in the schedule's time zone: when the resource runs, holidays, clock changes.")
    schedule.add_argument("value", metavar="VALUE",
                          help='the tag value, e.g. "mon-fri 08:00-19:00 Europe/Paris"')
    schedule.add_argument("--from", dest="start", metavar="DATE",
                          help="first day (2026-12-07) or time (2026-12-07T08:30); default "
                          "today")
    schedule.add_argument("--days", type=positive_int, default=7, help="days shown (default 7)")
    schedule.add_argument("--timezone", default="UTC", metavar="ZONE",
                          help="zone of a schedule that names none (the stack's "
                          "DefaultTimezone; default UTC)")
    schedule.add_argument("--json", action="store_true", help="the timeline as JSON")

    check = commands.add_parser(
        "check-policy", help="is this bucket policy public? which statements, and why",
        description="The public-S3 verdict of s3_public_remediation on a bucket policy: the "
        "statements that make the bucket public, and the conditions that keep the others "
        "private. Exit status 1 when public.")
    check.add_argument("policy", type=Path, metavar="POLICY",
                       help="a policy document, or the output of aws s3api get-bucket-policy")
    check.add_argument("--acl", type=Path, metavar="FILE",
                       help="the bucket's ACL (output of aws s3api get-bucket-acl)")
    check.add_argument("--block", action="append", default=[], metavar="SETTING",
                       choices=sorted(BLOCK_SETTING_NAMES),
                       help="a Block Public Access setting in effect; repeatable: "
                       f"{', '.join(sorted(BLOCK_SETTING_NAMES))}")
    check.add_argument("--json", action="store_true", help="the verdict as JSON")

    permissions = commands.add_parser(
        "permissions", help="the IAM actions an automation needs",
        description="The AWS calls an automation makes and the IAM actions they need, from "
        "functions/<automation>/permissions.py (checked against its role by the tests).")
    permissions.add_argument("automation", choices=names, metavar="automation",
                             help=f"one of: {', '.join(names)}")
    permissions.add_argument("--json", action="store_true",
                             help="an IAM policy document (one statement per service)")
    permissions.add_argument("--member", action="store_true",
                             help="only what a member account's role needs")
    for command in (plan, invoke, schedule, check, permissions):
        command.set_defaults(command_parser=command)  # its own usage line on an error
    return parser


BLOCK_SETTING_NAMES = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                       "RestrictPublicBuckets")


def _run(args: argparse.Namespace) -> int:
    if args.command == "plan":
        from opskit_cli.plan import PlanRequest, plan_command  # noqa: PLC0415 - per command

        return plan_command(PlanRequest(
            args.automation, profile=args.profile, regions=args.region,
            params=dict(args.param), event_path=args.event, as_json=args.json,
            verbose=args.verbose, progress=not args.quiet))
    if args.command == "invoke":
        from opskit_cli.invoke import InvokeRequest, invoke_command  # noqa: PLC0415

        return invoke_command(InvokeRequest(
            args.automation, args.event, profile=args.profile, live=args.live,
            region=args.region, params=dict(args.param)))
    if args.command == "schedule":
        from opskit_cli.schedule_view import schedule_report  # noqa: PLC0415

        text, data = schedule_report(args.value, start=args.start, days=args.days,
                                     timezone=args.timezone)
        print(json.dumps(data, indent=2) if args.json else text)
        return 0
    if args.command == "check-policy":
        from opskit_cli.policy_view import check_policy  # noqa: PLC0415

        text, verdict, public = check_policy(args.policy, acl=args.acl, block=args.block)
        print(json.dumps(verdict, indent=2) if args.json else text)
        return 1 if public else 0
    from opskit_cli.permissions_view import (  # noqa: PLC0415
        describe_permissions,
        policy_document,
    )

    if args.json:
        print(json.dumps(policy_document(args.automation, member=args.member), indent=2))
    else:
        print(describe_permissions(args.automation))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except UsageError as exc:
        command_parser: argparse.ArgumentParser = args.command_parser
        command_parser.error(str(exc))  # exits with status 2
    except catalog.CatalogError as exc:
        print(f"opskit {args.command}: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
