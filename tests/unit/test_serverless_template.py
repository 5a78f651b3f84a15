"""The deployment package: what `osls package` makes of serverless.yml and infra/cloudformation/.

The module fixture runs scripts/package.sh (layer build, offline `osls package`, cfn-lint) once and reads
the CloudFormation template it writes. The script skips its work when nothing changed since its last
successful run, so `make test`'s later `make package` step reuses this run instead of packaging again.
Skipped when the Node tooling (`make node-deps`) or uv is not installed.
"""

from __future__ import annotations

import json
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVERLESS_DIR = ROOT / ".serverless"
TEMPLATE = SERVERLESS_DIR / "cloudformation-template-update-stack.json"
STAGE = "dev"
FUNCTIONS = ("webhook", "tutor", "billing")

SECRET_SETTINGS = {
    "WHATSAPP_APP_SECRET",
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_ACCESS_TOKEN",
    "STRIPE_API_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "GROQ_API_KEY",
    "ANTHROPIC_API_KEY",
    "MODAL_TOKEN_ID",
    "MODAL_TOKEN_SECRET",
    "DATABASE_URL",
    "REDIS_URL",
}
# Shapes of real credentials: Stripe, Anthropic, Groq, Modal and Meta tokens, URLs with a password...
SECRET_SHAPES = re.compile(
    r"\b(sk|rk|pk)_(live|test)_|\bwhsec_|\bsk-ant-|\bgsk_|\b(ak|as)-[A-Za-z0-9]{10,}|\bEAA[A-Za-z0-9]{20,}"
    r"|://[^/\s:@]+:[^/\s@]+@"
)
# ... and, in an environment value, any long run of key-like characters.
LONG_TOKEN = re.compile(r"[A-Za-z0-9+/_=-]{24,}")

Template = dict[str, Any]


@pytest.fixture(scope="module")
def template() -> Template:
    for tool in ("node_modules/.bin/osls", ".tools/bin/uv", ".venv/bin/cfn-lint"):
        if not (ROOT / tool).exists():
            pytest.skip(f"{tool} is not installed (run `make install node-deps`); packaging not checked")
    result = subprocess.run(
        ["bash", "scripts/package.sh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f"scripts/package.sh failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    data: Template = json.loads(TEMPLATE.read_text())
    return data


def resources(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


def function(template: Template, name: str) -> dict[str, Any]:
    """The properties of the Lambda function `name` (webhook, tutor, billing)."""
    for res in resources(template, "AWS::Lambda::Function").values():
        if res["Properties"]["FunctionName"] == f"espaluz-{STAGE}-{name}":
            props: dict[str, Any] = res["Properties"]
            return props
    raise AssertionError(f"no Lambda function {name!r} in the template")


def logical_id(ref: Any) -> str:
    """The logical id in a {"Ref": id} or {"Fn::GetAtt": [id, attr]}."""
    assert isinstance(ref, dict), ref
    if "Ref" in ref:
        return str(ref["Ref"])
    return str(ref["Fn::GetAtt"][0])


def role_statements(template: Template, role_id: str) -> list[dict[str, Any]]:
    role = template["Resources"][role_id]
    assert role["Type"] == "AWS::IAM::Role"
    assert not role["Properties"].get("ManagedPolicyArns"), "managed policies are not audited here"
    return [
        statement
        for policy in role["Properties"].get("Policies", [])
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_three_python312_arm64_functions_with_the_dependency_layer(template: Template) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    assert len(functions) == 3
    for name in FUNCTIONS:
        props = function(template, name)
        assert props["Runtime"] == "python3.12"
        assert props["Architectures"] == ["arm64"]
        assert props["Handler"] == f"functions/{name}/handler.handler"
        assert props["Layers"] == [{"Ref": "DepsLambdaLayer"}]
    layer = template["Resources"]["DepsLambdaLayer"]["Properties"]
    assert layer["CompatibleRuntimes"] == ["python3.12"]
    assert layer["CompatibleArchitectures"] == ["arm64"]


def test_webhook_is_small_and_fast_and_knows_the_queue(template: Template) -> None:
    props = function(template, "webhook")
    assert props["MemorySize"] == 512
    assert props["Timeout"] == 10
    assert props["Environment"]["Variables"]["QUEUE_URL"] == {"Ref": "InboundQueue"}


def test_tutor_consumes_the_queue_with_partial_batch_failures(template: Template) -> None:
    mappings = list(resources(template, "AWS::Lambda::EventSourceMapping").values())
    assert len(mappings) == 1
    props = mappings[0]["Properties"]
    assert logical_id(props["FunctionName"]) == "TutorLambdaFunction"
    assert props["EventSourceArn"] == {"Fn::GetAtt": ["InboundQueue", "Arn"]}
    assert props["BatchSize"] == 10
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 2 <= props["ScalingConfig"]["MaximumConcurrency"] <= 1000


def test_inbound_queue_is_fifo_with_a_fifo_dead_letter_queue(template: Template) -> None:
    queue = template["Resources"]["InboundQueue"]["Properties"]
    assert queue["QueueName"] == f"espaluz-{STAGE}-inbound.fifo"
    assert queue["FifoQueue"] is True
    assert queue["ContentBasedDeduplication"] is False  # MessageDeduplicationId = wamid
    redrive = queue["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == 5
    dlq_id = logical_id(redrive["deadLetterTargetArn"])
    dlq = template["Resources"][dlq_id]
    assert dlq["Type"] == "AWS::SQS::Queue"
    assert dlq["Properties"]["FifoQueue"] is True
    assert dlq["Properties"]["QueueName"].endswith(".fifo")
    assert dlq["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    # AWS: an SQS event source's visibility timeout should be at least 6x the function timeout.
    assert queue["VisibilityTimeout"] >= 6 * function(template, "tutor")["Timeout"]


def test_only_the_webhook_role_can_enqueue_and_only_to_the_inbound_queue(template: Template) -> None:
    webhook_role = logical_id(function(template, "webhook")["Role"])
    send = [
        s for s in role_statements(template, webhook_role) if any("sqs" in a for a in as_list(s["Action"]))
    ]
    assert len(send) == 1
    assert send[0]["Effect"] == "Allow"
    assert set(as_list(send[0]["Action"])) <= {"sqs:SendMessage", "sqs:SendMessageBatch"}
    assert as_list(send[0]["Resource"]) == [{"Fn::GetAtt": ["InboundQueue", "Arn"]}]
    for role_id in resources(template, "AWS::IAM::Role"):
        for statement in role_statements(template, role_id):
            actions = as_list(statement["Action"])
            assert not {"*", "sqs:*"} & set(actions), (role_id, statement)
            if role_id != webhook_role:
                assert not any(a.startswith("sqs:Send") for a in actions), (role_id, statement)


def test_http_api_routes(template: Template) -> None:
    integrations = resources(template, "AWS::ApiGatewayV2::Integration")
    routes = {}
    for route in resources(template, "AWS::ApiGatewayV2::Route").values():
        target = route["Properties"]["Target"]["Fn::Join"][1]
        integration = integrations[logical_id(target[1])]
        routes[route["Properties"]["RouteKey"]] = logical_id(integration["Properties"]["IntegrationUri"])
    assert routes == {
        "GET /webhooks/whatsapp": "WebhookLambdaFunction",
        "POST /webhooks/whatsapp": "WebhookLambdaFunction",
        "GET /healthz": "WebhookLambdaFunction",
        "POST /webhooks/stripe": "BillingLambdaFunction",
    }


def test_outputs_name_the_queues_and_the_api(template: Template) -> None:
    outputs = template["Outputs"]
    assert outputs["InboundQueueUrl"]["Value"] == {"Ref": "InboundQueue"}
    assert logical_id(outputs["InboundDeadLetterQueueUrl"]["Value"]) == "InboundDeadLetterQueue"
    assert "HttpApiUrl" in outputs


def test_no_environment_value_looks_like_a_secret(template: Template) -> None:
    seen: set[str] = set()
    for name in FUNCTIONS:
        for key, value in function(template, name)["Environment"]["Variables"].items():
            seen.add(key)
            if key in SECRET_SETTINGS:
                assert value == "" or isinstance(value, dict), f"{name}: {key} carries a literal value"
            if isinstance(value, str):
                assert not SECRET_SHAPES.search(value), f"{name}: {key} looks like a secret"
                assert not LONG_TOKEN.search(value), f"{name}: {key} looks like a secret"
    assert {"WHATSAPP_APP_SECRET", "STRIPE_WEBHOOK_SECRET", "DATABASE_URL", "QUEUE_URL"} <= seen
    assert not SECRET_SHAPES.search(TEMPLATE.read_text()), "the template contains something secret-shaped"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_artifact_holds_the_library_and_its_own_handler_only(template: Template, name: str) -> None:
    with zipfile.ZipFile(SERVERLESS_DIR / f"{name}.zip") as archive:
        files = archive.namelist()
    assert "espaluz/config.py" in files
    assert not [f for f in files if f.startswith("espaluz/dev/")]
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    tops = {f.split("/")[0] for f in files}
    assert tops <= {"espaluz", "functions"}, tops
    others = {f.split("/")[1] for f in files if f.startswith("functions/") and f.count("/") > 1}
    assert others <= {name}, others


def test_layer_holds_runtime_dependencies_only(template: Template) -> None:
    with zipfile.ZipFile(SERVERLESS_DIR / "deps.zip") as archive:
        packages = {f.split("/")[1] for f in archive.namelist() if f.startswith("python/")}
    assert {"pydantic", "pydantic_core", "psycopg", "aws_lambda_powertools", "stripe"} <= packages
    assert any(p.startswith("psycopg_binary") for p in packages)
    # boto3/botocore come with the Lambda runtime; test tools and the local stack never ship.
    for absent in ("boto3", "botocore", "pytest", "moto", "fastapi", "pgserver", "espaluz"):
        assert absent not in packages, absent
