"""Writes the parts every automation's template shares, once, from one place.

Each automation is its own SAM application, `functions/<automation>/template.yaml`: deployable
alone, or composed by the root `template.yaml` (an `AWS::Serverless::Application` behind its
`Enable<X>` condition). What they all repeat is written by this script between marker comments:

- in each automation's template: the shared parameters (the catalog's shared resources, passed
  in by the root, and the settings every automation reads), the conditions that create those
  resources when deployed alone, the `Globals`, the resources created alone (layer, alert key and
  topic, dead-letter queue and its alarm), the function's log group and Errors alarm (under
  `FunctionErrorAlarms` where every failure reaches the dead-letter queue), and the dispatch work
  queue, its dead-letter queue, alarm and mapping (`DispatchMode=sqs`);
- in the root template: each `AWS::Serverless::Application`, passing every parameter the
  automation's template declares and the root has.

The shared parameters' definitions are the root template's own. Run `make templates` (or
`python -m tools.templates`) after changing any of them; `tests/test_templates.py` fails while a
template is not current.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROOT_TEMPLATE = ROOT / "template.yaml"
BEGIN = "# >>> {name}: written by tools/templates.py (make templates), do not edit"
END = "# <<< {name}"
WIDTH = 100  # the templates' line length


@dataclass(frozen=True)
class Automation:
    folder: str
    prefix: str  # of its resources' logical ids: <prefix>Function, <prefix>LogGroup...
    errors: str  # what its Errors alarm says
    dispatch: bool  # whether it can spread its targets over a work queue (DispatchMode=sqs)
    # Lambda's retries of a failed asynchronous invocation before the dead-letter queue; None
    # for a function only ever invoked synchronously.
    retries: int | None = 2
    # Whether it reads an SQS event source of its own: a message it fails goes back to that
    # queue (and on to its redrive), never to the function's failure destination.
    queue_fed: bool = False

    @property
    def dead_lettered(self) -> bool:
        """Whether every failure of its function reaches the dead-letter queue (whose alarm
        pages): invoked asynchronously only. Its own Errors alarm is then optional
        (FunctionErrorAlarms); a function invoked synchronously or fed by a queue keeps it."""
        return self.retries is not None and not self.queue_fed


AUTOMATIONS = (
    # The next scheduled run repairs a failed one: no retries, failures kept for inspection.
    Automation("instance_scheduler", "InstanceScheduler",
               "The instance scheduler function failed.", dispatch=True, retries=0),
    Automation("slack_notifier", "SlackNotifier",
               "The alert notifier failed: an invocation where nothing could be delivered (a dead "
               "webhook, an outage) or a bad configuration. Messages are retried, then kept in "
               "the DLQ.", dispatch=False, queue_fed=True),
    Automation("auto_tagger", "AutoTagger", "The auto-tagger function failed.", dispatch=True),
    Automation("s3_public_remediation", "S3PublicRemediation",
               "The public-S3 remediation function failed.", dispatch=True),
    Automation("sg_open_port_remediation", "SgOpenPortRemediation",
               "The open-port remediation function failed.", dispatch=True),
    Automation("rds_backup", "RdsBackup",
               "The RDS backup function failed (a crash, not a failed snapshot).", dispatch=True),
    Automation("access_key_rotation", "AccessKeyRotation",
               "A rotation step failed (Secrets Manager keeps the current key and retries).",
               dispatch=False, retries=None),
    Automation("access_key_auditor", "AccessKeyAuditor",
               "The key-age auditor failed.", dispatch=True),
    Automation("resource_cleanup", "ResourceCleanup",
               "The unused-resource cleanup failed.", dispatch=True),
    # A heal retried later would act on a state that has moved on: no retries.
    Automation("self_healing", "SelfHealing", "The self-healing function failed.",
               dispatch=False, retries=0),
    # A hook or job left unanswered fails its deployment at its timeout: a retry would bake again
    # for nothing (the function answers before it returns, even on an error).
    Automation("iam_policy_guard", "IamPolicyGuard", "The IAM policy guard failed.",
               dispatch=False),
    Automation("deploy_guard", "DeployGuard",
               "The deployment guard failed (a hook or job it could not answer).",
               dispatch=False, retries=0),
    # A delivery that failed (a destination down) is retried by Lambda, then kept whole in the
    # dead-letter queue: its objects and documents are named after it, so a retry duplicates
    # nothing.
    Automation("log_shipper", "LogShipper",
               "The log shipper failed: a subscription delivery it could not write (retried, "
               "then kept in the DLQ), a malformed payload, or a failed reconciliation.",
               dispatch=False, retries=2),
)

# The root's resources every automation uses: passed in, or created when deployed alone.
SHARED_ARNS = {
    "LayerArn": ("!Ref OpskitLayer", "The opskit layer (empty: this template builds its own "
                 "from ../../shared_layer)."),
    "AlertTopicArn": ("!Ref AlertTopic", "The encrypted topic reports and alarms go to (empty: "
                      "this template creates its own, with its key)."),
    "AlertKeyArn": ("!GetAtt AlertKey.Arn", "The KMS key of the alert topic and the log groups "
                    "(with AlertTopicArn)."),
    "DeadLetterQueueArn": ("!GetAtt DeadLetterQueue.Arn", "Where failed asynchronous invocations "
                           "land (empty: this template creates its own)."),
    # A nested stack's own name is the root's plus the application's and a random suffix: the
    # schedules are named from the root's, so that they keep within Scheduler's 64 characters.
    "CatalogStackName": ("!Ref AWS::StackName", "The opskit stack's name, when composed: its "
                         "schedules are named after it (empty: after this stack)."),
}
# The root's parameters every automation reads (through Globals) or uses (log groups, e-mail).
COMMON_PARAMETERS = ("DryRun", "ExemptionTagKey", "TargetAccounts", "TargetRegions",
                     "AssumeRoleName", "AlertEmail", "LogRetentionDays", "LogLevel", "Tracing",
                     "ColdStartMetric", "FunctionErrorAlarms")


# What every function of the catalog shares (the root template has no function of its own).
GLOBALS = """  Function:
    Runtime: python3.13
    Architectures: [arm64]
    Timeout: 300
    MemorySize: 256
    Tracing: !Ref Tracing
    Layers: [!Ref OpskitLayer]
    Environment:
      Variables:
        # Time zones come from the layer's pinned tzdata package only (the database the tests
        # ran on), never from the OS; zoneinfo then skips its sysconfig lookup on cold start.
        PYTHONTZPATH: ""
        POWERTOOLS_METRICS_NAMESPACE: Opskit
        LOG_LEVEL: !Ref LogLevel
        TRACING: !Ref Tracing
        COLD_START_METRIC: !Ref ColdStartMetric
        DRY_RUN: !Ref DryRun
        EXEMPTION_TAG_KEY: !Ref ExemptionTagKey
        TARGET_ACCOUNTS: !Ref TargetAccounts
        TARGET_REGIONS: !Ref TargetRegions
        ASSUME_ROLE_NAME: !Ref AssumeRoleName
        ALERT_TOPIC_ARN: !Ref AlertTopic"""


def template_path(automation: Automation) -> Path:
    return ROOT / "functions" / automation.folder / "template.yaml"


def _blocks(text: str, section: str) -> dict[str, str]:
    """The root's top-level entries of one section (Parameters, Resources...), as text."""
    body = text.split(f"\n{section}:\n", 1)[1]
    body = re.split(r"\n(?=\S)", body, maxsplit=1)[0]
    blocks: dict[str, str] = {}
    for match in re.finditer(r"^  (\w+):\n((?:(?:    .*|\s*)\n)*)", body + "\n", re.MULTILINE):
        lines = match.group(0).rstrip("\n").split("\n")
        while lines and (not lines[-1].strip() or lines[-1].strip().startswith("#")):
            lines.pop()  # the comment heading the next entry is not part of this one
        blocks[match.group(1)] = "\n".join(lines)
    return blocks


def _own(block: str, condition: str) -> str:
    """A root resource, created by an automation's template only when deployed alone."""
    lines = block.split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("    Type:")) + 1
    lines[at:at] = [f"    Condition: {condition}"]
    return "\n".join(lines)


def _shared(name: str) -> str:
    """A reference to a shared resource, in an automation's template."""
    own = {"OpskitLayer": ("OwnLayer", "!Ref OpskitLayer", "LayerArn"),
           "AlertTopic": ("OwnAlerts", "!Ref AlertTopic", "AlertTopicArn"),
           "AlertKey": ("OwnAlerts", "!GetAtt AlertKey.Arn", "AlertKeyArn"),
           "DeadLetterQueue": ("OwnDeadLetters", "!GetAtt DeadLetterQueue.Arn",
                               "DeadLetterQueueArn")}
    condition, mine, parameter = own[name]
    return f"!If [{condition}, {mine}, !Ref {parameter}]"


_SHARED_REFERENCE = re.compile(r"!Ref (OpskitLayer|AlertTopic)\b(?![\w.])"
                               r"|!GetAtt (AlertKey|DeadLetterQueue)\.Arn\b")


def rewrite_shared(text: str) -> str:
    """References to the root's shared resources, as an automation's template makes them."""
    return _SHARED_REFERENCE.sub(lambda m: _shared(m.group(1) or m.group(2)), text)


def regions(automation: Automation, root_text: str, nested_text: str = "") -> dict[str, str]:
    """What goes between each pair of markers of an automation's template (`nested_text`, as
    it is, tells whether it names schedules)."""
    named = "!If [OwnName," in nested_text
    parameters = _blocks(root_text, "Parameters")
    resources = _blocks(root_text, "Resources")
    p, a = automation.prefix, automation.folder
    shared_parameters = [f"  {name}:\n    Type: String\n    Default: \"\"\n"
                         f"    Description: >-\n      {description}"
                         for name, (_, description) in SHARED_ARNS.items()
                         if name != "CatalogStackName" or named]
    shared_parameters += [parameters[name] for name in COMMON_PARAMETERS]
    conditions = "\n".join([
        '  OwnLayer: !Equals [!Ref LayerArn, ""]',
        '  OwnAlerts: !Equals [!Ref AlertTopicArn, ""]',
        '  OwnDeadLetters: !Equals [!Ref DeadLetterQueueArn, ""]',
        '  HasAlertEmail: !Not [!Equals [!Ref AlertEmail, ""]]',
        "  OwnAlertsWithEmail: !And [!Condition OwnAlerts, !Condition HasAlertEmail]",
        *(['  OwnName: !Equals [!Ref CatalogStackName, ""]'] if named else []),
        # only where an Errors alarm uses it: an unused condition is a template error
        *(['  ErrorsAlarm: !Equals [!Ref FunctionErrorAlarms, "true"]']
          if automation.dead_lettered else [])])
    own = [
        _own(resources["OpskitLayer"], "OwnLayer").replace(
            "ContentUri: shared_layer/", "ContentUri: ../../shared_layer/"),
        _own(resources["AlertKey"], "OwnAlerts"),
        _own(resources["AlertKeyAlias"], "OwnAlerts"),
        _own(resources["AlertTopic"], "OwnAlerts"),
        _own(resources["AlertTopicPolicy"], "OwnAlerts"),
        resources["AlertEmailSubscription"].replace(
            "Condition: HasAlertEmail", "Condition: OwnAlertsWithEmail").replace(
            "!GetAtt DeadLetterQueue.Arn", _shared("DeadLetterQueue")),
        _own(resources["DeadLetterQueue"], "OwnDeadLetters"),
        _own(resources["DeadLetterQueuePolicy"], "OwnDeadLetters"),
        rewrite_shared(_own(resources["DeadLetterQueueAlarm"], "OwnDeadLetters")),
    ]
    # A failure that reaches the dead-letter queue pages through its alarm (the record names the
    # function and carries the error): the function's own Errors alarm only on request.
    errors_condition = "\n    Condition: ErrorsAlarm" if automation.dead_lettered else ""
    observability = f"""  {p}LogGroup:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub "/aws/lambda/${{{p}Function}}"
      RetentionInDays: !Ref LogRetentionDays
      KmsKeyId: {_shared("AlertKey")}

  {p}ErrorsAlarm:
    Type: AWS::CloudWatch::Alarm{errors_condition}
    Properties:
      AlarmDescription: >-
        {automation.errors}
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions:
        - Name: FunctionName
          Value: !Ref {p}Function
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
      AlarmActions: [{_shared("AlertTopic")}]"""
    if automation.retries is not None:
        observability += f"""

  # Failed asynchronous invocations go to the dead-letter queue. Written as a resource of its
  # own, not the function's EventInvokeConfig: SAM rewrites an !If destination.
  {p}FailureDestination:
    Type: AWS::Lambda::EventInvokeConfig
    Properties:
      FunctionName: !Ref {p}Function
      Qualifier: $LATEST
      MaximumRetryAttempts: {automation.retries}
      DestinationConfig:
        OnFailure:
          Destination: {_shared("DeadLetterQueue")}

  {p}DeadLetters:
    Type: AWS::IAM::RolePolicy
    Properties:
      RoleName: !Ref {p}FunctionRole
      PolicyName: dead-letters
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: FailedInvocations
            Effect: Allow
            Action: sqs:SendMessage
            Resource: {_shared("DeadLetterQueue")}"""
    found = {
        "shared parameters": "\n".join(shared_parameters),
        "shared conditions": conditions,
        "globals": "Globals:\n" + rewrite_shared(GLOBALS),
        "created alone": "\n\n".join(own),
        "observability and failures": observability,
        "outputs": f"""  FunctionArn:
    Value: !GetAtt {p}Function.Arn
  FunctionName:
    Value: !Ref {p}Function""",
    }
    if automation.dispatch:
        found["dispatch"] = _dispatch(p, a)
    return found


def _dispatch(p: str, a: str) -> str:
    return f"""  {p}WorkQueue:
    Type: AWS::SQS::Queue
    Condition: {p}Dispatch
    Metadata:
      checkov:
        skip:
          - id: CKV_AWS_27
            comment: Encrypted at rest with SSE-SQS (SqsManagedSseEnabled).
    Properties:
      SqsManagedSseEnabled: true
      # Longer than the function's timeout, as Lambda requires for an SQS source.
      VisibilityTimeout: 960
      MessageRetentionPeriod: 86400
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt {p}WorkDeadLetterQueue.Arn
        maxReceiveCount: !Ref DispatchMaxAttempts

  {p}WorkDeadLetterQueue:
    Type: AWS::SQS::Queue
    Condition: {p}Dispatch
    Metadata:
      cfn-lint:
        config:
          ignore_checks: [ES6000] # a dead-letter queue: it has no redrive of its own
      checkov:
        skip:
          - id: CKV_AWS_27
            comment: Encrypted at rest with SSE-SQS (SqsManagedSseEnabled).
    Properties:
      SqsManagedSseEnabled: true
      MessageRetentionPeriod: 1209600

  {p}WorkDeadLetterAlarm:
    Type: AWS::CloudWatch::Alarm
    Condition: {p}Dispatch
    Properties:
      AlarmDescription: A target of {a} failed every attempt (its message is in the DLQ).
      Namespace: AWS/SQS
      MetricName: ApproximateNumberOfMessagesVisible
      Dimensions:
        - Name: QueueName
          Value: !GetAtt {p}WorkDeadLetterQueue.QueueName
      Statistic: Maximum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 0
      ComparisonOperator: GreaterThanThreshold
      TreatMissingData: notBreaching
      AlarmActions: [{_shared("AlertTopic")}]

  {p}WorkQueueMapping:
    Type: AWS::Lambda::EventSourceMapping
    Condition: {p}Dispatch
    Metadata:
      cfn-lint:
        config:
          # SQS sources take no OnFailure destination: the queue's redrive policy is the DLQ.
          ignore_checks: [ES1001]
    Properties:
      EventSourceArn: !GetAtt {p}WorkQueue.Arn
      FunctionName: !Ref {p}Function
      BatchSize: 1
      FunctionResponseTypes: [ReportBatchItemFailures]
      ScalingConfig:
        MaximumConcurrency: !Ref DispatchMaxConcurrency"""


def _declared(text: str) -> list[str]:
    """The parameters an automation's template declares, in order."""
    return list(_blocks(text, "Parameters"))


def application(automation: Automation, nested_text: str, root_text: str) -> str:
    """The root's AWS::Serverless::Application of one automation."""
    root_parameters = _blocks(root_text, "Parameters")
    passed = []
    for name in _declared(nested_text):
        if name in SHARED_ARNS:
            passed.append(f"{name}: {SHARED_ARNS[name][0]}")
        elif name in root_parameters:
            passed.append(f"{name}: !Ref {name}")
        elif name == "RotationFunctionArn":
            passed.append("RotationFunctionArn: !If [AccessKeyRotationEnabled, "
                          "!GetAtt AccessKeyRotation.Outputs.FunctionArn, \"\"]")
        else:
            raise ValueError(f"{automation.folder}: the root cannot pass {name}")
    # One flow mapping, its entries filled into lines: the root stays short enough to read.
    lines: list[str] = []
    for entry in passed:
        if lines and len(lines[-1]) + len(entry) + 2 <= WIDTH:
            lines[-1] += f" {entry},"
        else:
            lines.append(f"        {entry},")
    lines[-1] = lines[-1].removesuffix(",")
    return (f"  {automation.prefix}:\n"
            f"    Type: AWS::Serverless::Application\n"
            f"    Condition: {automation.prefix}Enabled\n"
            f"    Properties:\n"
            f"      Location: functions/{automation.folder}/template.yaml\n"
            f"      Parameters: {{\n" + "\n".join(lines) + " }")


def fill(text: str, found: dict[str, str], where: str) -> str:
    """Replace what stands between each pair of markers; every pair must be there."""
    for name, content in found.items():
        pattern = re.compile(rf"^(\s*){re.escape(BEGIN.format(name=name))}\n.*?^\s*"
                             rf"{re.escape(END.format(name=name))}$", re.MULTILINE | re.DOTALL)
        match = pattern.search(text)
        if match is None:
            raise ValueError(f"{where}: no markers for {name!r}")
        indent = match.group(1)
        replacement = (f"{indent}{BEGIN.format(name=name)}\n{content}\n"
                       f"{indent}{END.format(name=name)}")
        text = text[:match.start()] + replacement + text[match.end():]
    return text


def rendered() -> dict[Path, str]:
    """Every template as it must be."""
    root_text = ROOT_TEMPLATE.read_text()
    out: dict[Path, str] = {}
    applications = []
    for automation in AUTOMATIONS:
        path = template_path(automation)
        current = path.read_text()
        text = fill(current, regions(automation, root_text, current), str(path))
        out[path] = text
        applications.append(application(automation, text, root_text))
    out[ROOT_TEMPLATE] = fill(root_text, {"automations": "\n\n".join(applications)},
                              str(ROOT_TEMPLATE))
    return out


def main(argv: list[str]) -> int:
    stale = [path for path, text in rendered().items() if path.read_text() != text]
    if "--check" in argv:
        for path in stale:
            print(f"not current: {path.relative_to(ROOT)} (run make templates)")
        return 1 if stale else 0
    for path, text in rendered().items():
        path.write_text(text)
    print(f"written: {', '.join(str(p.relative_to(ROOT)) for p in stale) or 'nothing to change'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
