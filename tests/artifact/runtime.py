"""Runs sample events through a built function the way the python3.13 Lambda runtime imports it.

Started as `python -I -S runtime.py` (standard library only, no site-packages), it reads a JSON
spec on stdin and puts on `sys.path` only what Lambda has: the function's folder (/var/task), the
layer's `python/` folder (/opt/python), then the runtime's boto3/botocore. It writes a JSON result
per event to the spec's `output` file (stdout belongs to the function's logs).
"""

import importlib
import json
import os
import socket
import sys
import traceback
import uuid


class Context:
    """What the handlers read of Lambda's context object."""

    def __init__(self, function_name, region, account):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "artifact-test"

    def get_remaining_time_in_millis(self):
        return 300_000


def resolve_account_hosts_to_loopback():
    """Stands in for DNS: S3 Control prefixes the endpoint's host with the account id
    (123456789012.127.0.0.1 for moto here), which no resolver answers on this machine."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".127.0.0.1"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo


def answer_what_moto_lacks(operations):
    """Operations the moto server does not implement (CodeDeploy's and CodePipeline's answers
    to a deployment guard) are answered here with an empty success, after botocore has built
    and validated the request against the runtime's own service model: a parameter that SDK
    does not know still fails."""
    if not operations:
        return
    import botocore.handlers
    from botocore.awsrequest import AWSResponse

    class Raw:
        def stream(self, **_):
            return iter([b"{}"])

    def answer(model=None, **_):
        if model is None or model.name not in operations:
            return None
        return (AWSResponse("https://moto-lacks.invalid/", 200, {}, Raw()),
                {"ResponseMetadata": {"HTTPStatusCode": 200}})

    botocore.handlers.BUILTIN_HANDLERS.insert(0, ("before-call.*.*", answer))


def origin(module_name):
    module = sys.modules.get(module_name)
    return getattr(module, "__file__", None) if module is not None else None


def main():
    spec = json.load(sys.stdin)
    standard_library = [path for path in sys.path if path]
    sys.path[:] = [spec["function_dir"], spec["layer_dir"], *standard_library, spec["sdk_dir"]]
    os.environ.clear()
    os.environ.update(spec["environment"])
    resolve_account_hosts_to_loopback()
    answer_what_moto_lacks(spec.get("answered_operations", []))
    results = []
    try:
        module_name, _, name = spec["handler"].rpartition(".")
        handler = getattr(importlib.import_module(module_name), name)
    except Exception as exc:  # an import that fails is the finding
        results.append({"import_error": f"{type(exc).__name__}: {exc}",
                        "traceback": traceback.format_exc()})
        handler = None
    if handler is not None:
        for event in spec["events"]:
            context = Context(spec["function_name"], spec["region"], spec["account"])
            try:
                results.append({"result": handler(event, context)})
            except Exception as exc:
                results.append({"error": f"{type(exc).__name__}: {exc}",
                                "traceback": traceback.format_exc()})
    modules = {name: origin(name) for name in ("boto3", "botocore", "aws_lambda_powertools",
                                                 "requests", "opskit")}
    versions = {}
    for name in ("boto3", "botocore"):
        if name in sys.modules:
            versions[name] = sys.modules[name].__version__
    with open(spec["output"], "w", encoding="utf-8") as out:
        json.dump({"results": results, "modules": modules, "versions": versions}, out,
                  default=str)


if __name__ == "__main__":
    main()
