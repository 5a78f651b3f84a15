"""The deployment package: what `osls package` makes of serverless.yml and infra/cloudformation/.

The module fixture runs scripts/package.sh (layer build, offline `osls package`, cfn-lint) once and reads
the CloudFormation template it writes. The script skips its work when nothing changed since its last
successful run, so `make test`'s later `make package` step reuses this run instead of packaging again.
Skipped when the Node tooling (`make node-deps`) or uv is not installed.
"""

from __future__ import annotations

import importlib
import json
import math
import re
import subprocess
import zipfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from espaluz.config import Settings

ROOT = Path(__file__).resolve().parents[2]
SERVERLESS_DIR = ROOT / ".serverless"
TEMPLATE = SERVERLESS_DIR / "cloudformation-template-update-stack.json"
STAGE = "dev"
FUNCTIONS = ("webhook", "tutor", "billing", "migrate", "scheduler")

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

# Long, key-like, but public: Stripe price ids and Meta's numeric ids.
PUBLIC_IDS = {"BILLING_MONTHLY_PRICE_ID", "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_BUSINESS_ACCOUNT_ID"}

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


def role_statements(
    template: Template, role_id: str, overrides: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The role's statements as deployed with the default parameters (or ``overrides``): Fn::If
    statements resolved, the ones that resolve to AWS::NoValue dropped."""
    role = template["Resources"][role_id]
    assert role["Type"] == "AWS::IAM::Role"
    assert not role["Properties"].get("ManagedPolicyArns"), "managed policies are not audited here"
    statements = []
    for policy in role["Properties"].get("Policies", []):
        for statement in policy["PolicyDocument"]["Statement"]:
            resolved = resolve_if(template, statement, overrides)
            if resolved != NO_VALUE:
                statements.append(resolved)
    return statements


NO_VALUE = {"Ref": "AWS::NoValue"}


def condition(template: Template, name: str, overrides: dict[str, str] | None = None) -> bool:
    """Evaluate a template condition from the parameters' defaults (or ``overrides``)."""
    # CloudFormation hands every parameter value to Ref as a string (a Number's too).
    params = {k: str(v.get("Default")) for k, v in template.get("Parameters", {}).items()} | (overrides or {})

    def value(node: Any) -> Any:
        if isinstance(node, dict) and "Ref" in node:
            return params[node["Ref"]]
        if isinstance(node, dict) and "Fn::Equals" in node:
            left, right = node["Fn::Equals"]
            return value(left) == value(right)
        if isinstance(node, dict) and "Fn::Not" in node:
            return not value(node["Fn::Not"][0])
        if isinstance(node, dict) and "Condition" in node:
            return value(template["Conditions"][node["Condition"]])
        return node

    return bool(value(template["Conditions"][name]))


def resolve_if(template: Template, node: Any, overrides: dict[str, str] | None = None) -> Any:
    """``node`` with a top-level Fn::If replaced by the branch the conditions choose."""
    while isinstance(node, dict) and "Fn::If" in node:
        name, then, otherwise = node["Fn::If"]
        node = then if condition(template, name, overrides) else otherwise
    return node


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_python312_arm64_functions_with_the_dependency_layer(template: Template) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    assert len(functions) == len(FUNCTIONS)
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
    assert props["BatchSize"] == 3  # see test_tutor_batches_fit_the_per_turn_budget
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 2 <= props["ScalingConfig"]["MaximumConcurrency"] <= 1000


# Seconds of a typical turn: the sizing's figure (test_prod_is_sized_for_100k_learners, serverless.yml).
TYPICAL_TURN_S = 2


def test_tutor_batches_fit_the_per_turn_budget(template: Template) -> None:
    """The handler takes a record only while one more turn's budget fits in the remaining time
    (espaluz/tutor/batch.py), so every record after the first must start within timeout - budget.
    The batch's records before its last (typical turns; one of them may be a learner's second message,
    which waits one pacing interval) must fit in that slack, or records are routinely returned and
    count receives toward the dead-letter queue. Fault covered: a batch size the Lambda's clock cannot
    hold (10 took 54 s of pacing for one learner alone), or a timeout cut below the budget."""
    from espaluz.tutor.batch import turn_budget

    settings = Settings()
    mapping = next(iter(resources(template, "AWS::Lambda::EventSourceMapping").values()))["Properties"]
    timeout = function(template, "tutor")["Timeout"]
    slack = timeout - turn_budget(settings).total
    assert slack > 0
    before_last = mapping["BatchSize"] - 1
    assert before_last * TYPICAL_TURN_S + settings.whatsapp_learner_interval_seconds <= slack
    assert "MaximumBatchingWindowInSeconds" not in mapping  # not offered for FIFO queues


def test_tutor_may_shorten_a_failed_messages_visibility_on_the_inbound_queue_only(template: Template) -> None:
    """espaluz/tutor/batch.py calls ChangeMessageVisibility on records it reports failed. Fault covered:
    the call denied in AWS (every retry waits the 6-minute visibility timeout) or granted beyond the
    inbound queue."""
    granted = [
        s
        for s in role_statements(template, "TutorRole")
        if "sqs:ChangeMessageVisibility" in as_list(s["Action"])
    ]
    # The inbound queue (batch.py), and its dead-letter queue: erasure receives it and makes the other
    # learners' messages visible again (espaluz/tutor/erasure.py). Nothing else.
    assert sorted(str(as_list(s["Resource"])) for s in granted) == sorted(
        [
            str([{"Fn::GetAtt": ["InboundQueue", "Arn"]}]),
            str([{"Fn::GetAtt": ["InboundDeadLetterQueue", "Arn"]}]),
        ]
    )


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


def test_only_webhook_billing_and_scheduler_can_enqueue_and_only_to_their_queues(template: Template) -> None:
    """The webhook enqueues learners' messages, billing its notices, the scheduler its proactive messages
    (all delivered by the tutor's send policy), and the scheduler's failed passes go to its own failure
    queue; no other role may send to any queue, and none to "*"."""
    queues = {
        "webhook": [[{"Fn::GetAtt": ["InboundQueue", "Arn"]}]],
        "billing": [[{"Fn::GetAtt": ["InboundQueue", "Arn"]}]],
        "scheduler": [
            [{"Fn::GetAtt": ["InboundQueue", "Arn"]}],
            [{"Fn::GetAtt": ["SchedulerFailureQueue", "Arn"]}],
        ],
    }
    senders = {logical_id(function(template, name)["Role"]) for name in queues}
    for name, expected in queues.items():
        role = logical_id(function(template, name)["Role"])
        send = [s for s in role_statements(template, role) if any("sqs" in a for a in as_list(s["Action"]))]
        assert [as_list(s["Resource"]) for s in send] == expected, name
        for statement in send:
            assert statement["Effect"] == "Allow"
            assert set(as_list(statement["Action"])) <= {"sqs:SendMessage", "sqs:SendMessageBatch"}
    for role_id in resources(template, "AWS::IAM::Role"):
        for statement in role_statements(template, role_id):
            actions = as_list(statement["Action"])
            assert not {"*", "sqs:*"} & set(actions), (role_id, statement)
            if role_id not in senders:
                assert not any(a.startswith("sqs:Send") for a in actions), (role_id, statement)


def test_scheduler_runs_every_5_minutes_retries_once_and_alarms(template: Template) -> None:
    """The scheduler (issue 17): an EventBridge rule every 5 minutes, a timeout well under that period (passes
    do not pile up), the tutor's queue and the database as its settings, one async retry at most and then
    the failure queue, and alarms on its errors and on that queue. Fault covered: a pass that fails
    silently (no retry bound, no destination, no alarm), or one that outlasts the period."""
    props = function(template, "scheduler")
    assert props["Timeout"] <= 120
    variables = props["Environment"]["Variables"]
    assert variables["QUEUE_URL"] == {"Ref": "InboundQueue"}
    assert "DATABASE_HOST" in variables
    (rule,) = resources(template, "AWS::Events::Rule").values()
    assert rule["Properties"]["ScheduleExpression"] == "rate(5 minutes)"
    assert rule["Properties"]["State"] == "ENABLED"
    assert logical_id(rule["Properties"]["Targets"][0]["Arn"]) == "SchedulerLambdaFunction"
    (invoke,) = resources(template, "AWS::Lambda::EventInvokeConfig").values()
    config = invoke["Properties"]
    assert logical_id(config["FunctionName"]) == "SchedulerLambdaFunction"
    assert config["MaximumRetryAttempts"] <= 1
    destination = config["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": ["SchedulerFailureQueue", "Arn"]}
    failures = template["Resources"]["SchedulerFailureQueue"]["Properties"]
    assert not failures.get("FifoQueue")  # a Lambda destination must be a standard queue
    alarms = {name: res["Properties"] for name, res in resources(template, "AWS::CloudWatch::Alarm").items()}
    errors = alarms["SchedulerErrorsAlarm"]
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert errors["Dimensions"][0]["Value"] == {"Ref": "SchedulerLambdaFunction"}
    depth = alarms["SchedulerFailuresAlarm"]
    assert depth["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert depth["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["SchedulerFailureQueue", "QueueName"]}
    assert depth["Threshold"] == 1


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
    """Secrets live in Secrets Manager only: a function's environment names its secrets (ARNs), never a
    value. Catches a setting moved back into `environment:` with a value from the deploying shell."""
    seen: set[str] = set()
    for name in FUNCTIONS:
        variables = function(template, name)["Environment"]["Variables"]
        assert "ESPALUZ_SECRETS" in variables, name
        for key, value in variables.items():
            seen.add(key)
            if key in SECRET_SETTINGS:
                # Only the cache URL (no password: TLS inside the VPC) may be set, and only by reference.
                assert key == "REDIS_URL", f"{name}: {key} in the environment"
                assert isinstance(value, dict), f"{name}: {key} carries a literal value"
            if isinstance(value, str):
                assert not SECRET_SHAPES.search(value), f"{name}: {key} looks like a secret"
                if key not in PUBLIC_IDS:
                    assert not LONG_TOKEN.search(value), f"{name}: {key} looks like a secret"
    assert {"QUEUE_URL", "ESPALUZ_SECRETS", "DATABASE_HOST"} <= seen
    assert not SECRET_SHAPES.search(TEMPLATE.read_text()), "the template contains something secret-shaped"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_artifact_holds_the_library_and_its_own_handler_only(template: Template, name: str) -> None:
    with zipfile.ZipFile(SERVERLESS_DIR / f"{name}.zip") as archive:
        files = archive.namelist()
    assert "espaluz/config.py" in files
    assert not [f for f in files if f.startswith("espaluz/dev/")]
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    tops = {f.split("/")[0] for f in files}
    # migrate carries the SQL files it applies (infra/migrations), and nothing else from infra/.
    allowed = {"espaluz", "functions", "infra"} if name == "migrate" else {"espaluz", "functions"}
    assert tops <= allowed, tops
    if name == "migrate":
        infra = [f for f in files if f.startswith("infra/")]
        assert infra
        assert all(f.startswith("infra/migrations/") for f in infra), infra
        assert "infra/migrations/0001.initial.sql" in files
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


# --- Production resources (issue 9) ------------------------------------------------------------------

PRIVATE_SUBNETS = [{"Ref": "PrivateSubnetA"}, {"Ref": "PrivateSubnetB"}]
# Actions that AWS does not let a policy scope to a resource: the only statements allowed Resource "*".
UNSCOPABLE_ACTIONS = {
    "polly:SynthesizeSpeech",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
}
SECRETS_BY_FUNCTION = {
    "webhook": {"WhatsAppWebhookSecret"},
    "tutor": {"WhatsAppTokenSecret", "StripeApiSecret", "ProvidersSecret", "DatabaseSecret"},
    "billing": {"StripeApiSecret", "StripeWebhookSecret", "DatabaseSecret"},
    "migrate": {"DatabaseSecret"},
    "scheduler": {"DatabaseSecret"},
}


def vpc_config(template: Template, name: str, overrides: dict[str, str] | None = None) -> Any:
    return resolve_if(template, function(template, name).get("VpcConfig", NO_VALUE), overrides)


def test_tutor_and_migrate_run_in_the_private_subnets(template: Template) -> None:
    """The database and the cache are only reachable from the private subnets (the scheduler reads it)."""
    for name in ("tutor", "migrate", "scheduler"):
        config = vpc_config(template, name)
        assert config["SubnetIds"] == PRIVATE_SUBNETS, name
        assert config["SecurityGroupIds"] == [{"Ref": "FunctionSecurityGroup"}], name
    for subnet in ("PrivateSubnetA", "PrivateSubnetB"):
        props = template["Resources"][subnet]["Properties"]
        assert not props.get("MapPublicIpOnLaunch"), subnet
    # Private subnets route to the NAT gateway, never straight to the internet gateway.
    routes = resources(template, "AWS::EC2::Route")
    private = [r for r in routes.values() if r["Properties"]["RouteTableId"] == {"Ref": "PrivateRouteTable"}]
    assert [r["Properties"].get("NatGatewayId") for r in private] == [{"Ref": "NatGateway"}]
    assert all("GatewayId" not in r["Properties"] for r in private)


def test_webhook_and_billing_join_the_vpc_by_default_and_can_leave_it(template: Template) -> None:
    """Default deploy: the two HTTP functions reach ElastiCache (dedupe) and Aurora (entitlements), which
    live in the private subnets; "false" takes each out, and its role then has no ENI permissions."""
    for name, param in (("webhook", "WebhookInVpcParam"), ("billing", "BillingInVpcParam")):
        assert template["Parameters"][param]["Default"] == "true"
        assert vpc_config(template, name)["SubnetIds"] == PRIVATE_SUBNETS, name
        assert vpc_config(template, name, {param: "false"}) == NO_VALUE, name
        role = logical_id(function(template, name)["Role"])
        inside_actions = {a for s in role_statements(template, role) for a in as_list(s["Action"])}
        outside = role_statements(template, role, {param: "false"})
        outside_actions = {a for s in outside for a in as_list(s["Action"])}
        assert not any(a.startswith("ec2:") for a in outside_actions), name
        assert "ec2:CreateNetworkInterface" in inside_actions, name


def test_iam_is_least_privilege(template: Template) -> None:
    """No wildcard action; "*" resources only where AWS offers no resource-level permission; each role
    reads exactly the secrets its function is told to load (ESPALUZ_SECRETS)."""
    for name in FUNCTIONS:
        role = logical_id(function(template, name)["Role"])
        for overrides in (None, {"WebhookInVpcParam": "false", "BillingInVpcParam": "false"}):
            statements = role_statements(template, role, overrides)
            for statement in statements:
                assert statement["Effect"] == "Allow", (role, statement)
                actions = as_list(statement["Action"])
                assert all("*" not in a for a in actions), (role, statement)
                if "*" in as_list(statement["Resource"]):
                    assert as_list(statement["Resource"]) == ["*"], (role, statement)
                    assert set(actions) <= UNSCOPABLE_ACTIONS, (role, statement)
        statements = role_statements(template, role)
        secrets = [s for s in statements if "secretsmanager:GetSecretValue" in s["Action"]]
        assert len(secrets) == 1, role
        assert secrets[0]["Action"] == ["secretsmanager:GetSecretValue"], role
        granted = {logical_id(r) for r in secrets[0]["Resource"]}
        assert granted == SECRETS_BY_FUNCTION[name], name
        told = function(template, name)["Environment"]["Variables"]["ESPALUZ_SECRETS"]
        refs = as_list(told["Fn::Join"][1]) if "Fn::Join" in told else [told]
        assert {logical_id(r) for r in refs} == granted, name
        logs = [s for s in role_statements(template, role) if "logs:PutLogEvents" in s["Action"]]
        assert logs[0]["Resource"] == [{"Fn::GetAtt": [f"{name.capitalize()}LogGroup", "Arn"]}]
    # Only the tutor touches the audio bucket, and only its objects.
    s3 = [
        (role_id, s)
        for role_id in resources(template, "AWS::IAM::Role")
        for s in role_statements(template, role_id)
        if any(a.startswith("s3:") for a in as_list(s["Action"]))
    ]
    assert {r for r, _ in s3} == {"TutorRole"}
    objects = [s for _, s in s3 if "s3:GetObject" in as_list(s["Action"])]
    assert set(objects[0]["Action"]) == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}  # erasure deletes
    listing = [s for _, s in s3 if "s3:ListBucket" in as_list(s["Action"])]
    assert listing[0]["Condition"] == {"StringLike": {"s3:prefix": ["voice/*", "tts/*"]}}


# Offered for new Aurora PostgreSQL clusters as of December 2026 (infra/cloudformation/README.md, Engine
# version): pgvector 0.8 needs 16.8+, a 0 ACU minimum (auto-pause) 16.3+.
ENGINE_VERSION = "16.13"


def test_engine_version_is_a_current_16_minor_with_pgvector_08_and_auto_pause() -> None:
    major, minor = (int(part) for part in ENGINE_VERSION.split("."))
    assert major == 16
    assert minor >= 8  # pgvector 0.8.0 (iterative scans), which memory retrieval relies on
    assert minor > 9  # 16.9, the previous pin, is with 16.8 the oldest 16.x line still offered


def test_aurora_serverless_v2_postgres16_private_and_encrypted(template: Template) -> None:
    cluster = template["Resources"]["DatabaseCluster"]
    props = cluster["Properties"]
    assert props["Engine"] == "aurora-postgresql"
    assert props["EngineVersion"] == ENGINE_VERSION
    scaling = props["ServerlessV2ScalingConfiguration"]
    assert scaling["MinCapacity"] == {"Ref": "DatabaseMinCapacity"}
    assert float(template["Parameters"]["DatabaseMinCapacity"]["Default"]) == 0  # dev stage: auto-pause
    assert 0 < scaling["MaxCapacity"] <= 16
    assert condition(template, "DatabaseAutoPause")
    assert 300 <= resolve_if(template, scaling["SecondsUntilAutoPause"]) <= 86400
    assert resolve_if(template, scaling["SecondsUntilAutoPause"], {"DatabaseMinCapacity": "0.5"}) == NO_VALUE
    assert props["StorageEncrypted"] is True
    assert cluster["DeletionPolicy"] == "Snapshot"
    assert "{{resolve:secretsmanager:" in json.dumps(props["MasterUserPassword"])
    subnets = template["Resources"]["DatabaseSubnetGroup"]["Properties"]["SubnetIds"]
    assert subnets == PRIVATE_SUBNETS
    instance = template["Resources"]["DatabaseInstance"]["Properties"]
    assert instance["DBInstanceClass"] == "db.serverless"
    assert instance["PubliclyAccessible"] is False
    ingress = template["Resources"]["DatabaseSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert [(r["FromPort"], r["SourceSecurityGroupId"]) for r in ingress] == [
        (5432, {"Ref": "FunctionSecurityGroup"})
    ]
    assert all("CidrIp" not in r for r in ingress)


def test_rds_proxy_is_optional_and_turns_prepared_statements_off(template: Template) -> None:
    for logical in ("DatabaseProxy", "DatabaseProxyTargetGroup", "DatabaseProxyRole"):
        assert template["Resources"][logical]["Condition"] == "UseRdsProxy"
    assert not condition(template, "UseRdsProxy")
    assert template["Resources"]["DatabaseProxy"]["Properties"]["RequireTLS"] is True
    for name in ("tutor", "billing"):
        variables = function(template, name)["Environment"]["Variables"]
        assert variables["DATABASE_BEHIND_PROXY"] == {"Fn::If": ["UseRdsProxy", "true", "false"]}
        host = variables["DATABASE_HOST"]["Fn::If"]
        assert host[0] == "UseRdsProxy"
        assert logical_id(host[1]) == "DatabaseProxy"


def test_tutor_concurrency_ceiling_protects_the_database(template: Template) -> None:
    mapping = next(iter(resources(template, "AWS::Lambda::EventSourceMapping").values()))["Properties"]
    assert mapping["ScalingConfig"]["MaximumConcurrency"] == 5  # dev; each container holds one connection
    # No reserved concurrency on the tutor: throttled SQS invocations would count toward the DLQ.
    assert "ReservedConcurrentExecutions" not in function(template, "tutor")


def test_valkey_serverless_cache_in_private_subnets(template: Template) -> None:
    cache = template["Resources"]["Cache"]
    assert cache["Type"] == "AWS::ElastiCache::ServerlessCache"
    assert cache["Properties"]["Engine"] == "valkey"
    assert cache["Properties"]["SubnetIds"] == PRIVATE_SUBNETS
    assert cache["Properties"]["CacheUsageLimits"]["DataStorage"]["Maximum"] >= 1
    ingress = template["Resources"]["CacheSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert [r["SourceSecurityGroupId"] for r in ingress] == [{"Ref": "FunctionSecurityGroup"}]
    redis_url = json.dumps(function(template, "tutor")["Environment"]["Variables"]["REDIS_URL"])
    assert '"rediss://"' in redis_url  # ElastiCache Serverless speaks TLS only
    # ...and is always cluster-mode: a single-node client there fails every command across hash slots.
    assert function(template, "tutor")["Environment"]["Variables"]["REDIS_CLUSTER"] == "true"
    webhook_cluster = function(template, "webhook")["Environment"]["Variables"]["REDIS_CLUSTER"]
    assert webhook_cluster == {"Fn::If": ["WebhookInVpc", "true", {"Ref": "AWS::NoValue"}]}


def test_audio_bucket_is_private_and_expires(template: Template) -> None:
    props = template["Resources"]["AudioBucket"]["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    rules = props["LifecycleConfiguration"]["Rules"]
    assert rules[0]["Status"] == "Enabled"
    assert 1 <= rules[0]["ExpirationInDays"] <= 30
    policy = template["Resources"]["AudioBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and "aws:SecureTransport" in json.dumps(s) for s in policy)


def test_every_secret_is_in_secrets_manager_without_a_value(template: Template) -> None:
    secrets = resources(template, "AWS::SecretsManager::Secret")
    assert set(secrets) == {s for names in SECRETS_BY_FUNCTION.values() for s in names} | {"StripeApiSecret"}
    keys: set[str] = set()
    for logical, res in secrets.items():
        props = res["Properties"]
        assert props["Name"].startswith(f"espaluz/{STAGE}/"), logical
        raw = props.get("SecretString") or props["GenerateSecretString"]["SecretStringTemplate"]
        values = json.loads(raw)
        assert all(v in ("", "espaluz") for v in values.values()), logical  # placeholders only
        keys |= set(values)
    assert SECRET_SETTINGS - {"DATABASE_URL", "REDIS_URL", "WHATSAPP_VERIFY_TOKEN"} <= keys
    generated = secrets["WhatsAppWebhookSecret"]["Properties"]["GenerateSecretString"]
    assert generated["GenerateStringKey"] == "WHATSAPP_VERIFY_TOKEN"


def test_dead_letter_queue_accepts_only_the_inbound_queue(template: Template) -> None:
    dlq = template["Resources"]["InboundDeadLetterQueue"]["Properties"]
    allow = dlq["RedriveAllowPolicy"]
    assert allow["redrivePermission"] == "byQueue"
    (arn,) = allow["sourceQueueArns"]
    assert arn["Fn::Join"][1][-1] == f":espaluz-{STAGE}-inbound.fifo"


def test_alarms_cover_dead_letters_queue_age_errors_latency_and_throttles(template: Template) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    for alarm in alarms.values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    dlq = alarms["DeadLetterQueueAlarm"]["Properties"]
    assert dlq["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert dlq["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["InboundDeadLetterQueue", "QueueName"]}
    assert dlq["Threshold"] == 1
    assert dlq["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    age = alarms["QueueAgeAlarm"]["Properties"]
    assert age["MetricName"] == "ApproximateAgeOfOldestMessage"
    assert age["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["InboundQueue", "QueueName"]}
    for logical in ("Webhook", "Tutor", "Billing"):
        target = {"Ref": f"{logical}LambdaFunction"}
        errors = alarms[f"{logical}ErrorRateAlarm"]["Properties"]["Metrics"]
        assert {m["MetricStat"]["Metric"]["MetricName"] for m in errors if "MetricStat" in m} == {
            "Errors",
            "Invocations",
        }
        stats = [m["MetricStat"] for m in errors if "MetricStat" in m]
        assert all(stat["Metric"]["Dimensions"][0]["Value"] == target for stat in stats)
        duration = alarms[f"{logical}DurationAlarm"]["Properties"]
        assert duration["ExtendedStatistic"] == "p95"
        assert duration["Dimensions"][0]["Value"] == target
        throttles = alarms[f"{logical}ThrottlesAlarm"]["Properties"]
        assert throttles["MetricName"] == "Throttles"
        assert throttles["Dimensions"][0]["Value"] == target
    assert condition(template, "HasAlarmEmail") is False


def test_dashboard_shows_functions_queues_and_tutor_metrics(template: Template) -> None:
    body = json.loads(template["Resources"]["Dashboard"]["Properties"]["DashboardBody"])
    text = json.dumps(body)
    for needle in (
        f"espaluz-{STAGE}-tutor",
        f"espaluz-{STAGE}-inbound-dlq.fifo",
        "TurnLatency",
        "ProviderLatency",
        "ProviderInputTokens",
        "Sends",
        "PronunciationScore",
        "QueueAge",
        "ServerlessDatabaseCapacity",
    ):
        assert needle in text, needle
    assert "${" not in text  # every Serverless variable was resolved


def test_interface_endpoints_are_optional_and_s3_gateway_is_not(template: Template) -> None:
    endpoints = resources(template, "AWS::EC2::VPCEndpoint")
    gateway = [e for e in endpoints.values() if e["Properties"]["VpcEndpointType"] == "Gateway"]
    assert len(gateway) == 1
    assert "Condition" not in gateway[0]
    interface = [e for e in endpoints.values() if e["Properties"]["VpcEndpointType"] == "Interface"]
    assert len(interface) == 2
    assert all(e["Condition"] == "UseInterfaceEndpoints" for e in interface)


# --- Deployment fixes (issue 13): alarm topic key, cache and database alarms, sizing -----------------------


def serverless_params() -> dict[str, dict[str, Any]]:
    """`params:` of serverless.yml, per stage (the packaged template holds the dev stage's only)."""
    yaml = importlib.import_module("yaml")  # cfn-lint's dependency; no type stubs installed
    params: dict[str, dict[str, Any]] = yaml.safe_load((ROOT / "serverless.yml").read_text())["params"]
    return params


def stage_params(stage: str) -> dict[str, Any]:
    params = serverless_params()
    return params["default"] | params.get(stage, {})


def test_alarm_topic_is_encrypted_with_a_key_cloudwatch_may_use(template: Template) -> None:
    """CloudWatch cannot publish to a topic under the AWS-managed key (alias/aws/sns): the topic has its
    own key, whose policy lets the account administer it and CloudWatch, for this stage's alarms only,
    encrypt notifications."""
    topic = template["Resources"]["AlarmTopic"]["Properties"]
    assert topic["KmsMasterKeyId"] != "alias/aws/sns"
    key_id = logical_id(topic["KmsMasterKeyId"])
    key = template["Resources"][key_id]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    assert all(s["Effect"] == "Allow" for s in statements)
    (admin,) = [s for s in statements if "AWS" in s["Principal"]]
    assert admin["Principal"]["AWS"]["Fn::Join"][1][-1] == ":root"
    assert {"Ref": "AWS::AccountId"} in admin["Principal"]["AWS"]["Fn::Join"][1]
    assert admin["Action"] == "kms:*"
    (cloudwatch,) = [s for s in statements if s["Principal"].get("Service") == "cloudwatch.amazonaws.com"]
    assert len(statements) == 2  # nobody else
    assert set(as_list(cloudwatch["Action"])) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    condition = cloudwatch["Condition"]
    assert condition["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}
    source_arn = condition["ArnLike"]["aws:SourceArn"]["Fn::Join"][1]
    assert ":cloudwatch:" in source_arn
    prefix = f"espaluz-{STAGE}-"
    assert source_arn[-1] == f":alarm:{prefix}*"
    # The condition names alarms by prefix: every alarm of the stack must carry it, or it goes unheard.
    for name, alarm in resources(template, "AWS::CloudWatch::Alarm").items():
        assert alarm["Properties"]["AlarmName"].startswith(prefix), name
    (alias,) = resources(template, "AWS::KMS::Alias").values()
    assert alias["Properties"]["TargetKeyId"] == {"Ref": key_id}
    assert alias["Properties"]["AliasName"] == f"alias/espaluz-{STAGE}-alarms"


def metric_stats(alarm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A metric-math alarm's MetricStat entries by id."""
    return {m["Id"]: m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m}


def named(stat: dict[str, Any]) -> tuple[str, str]:
    return stat["Metric"]["Namespace"], stat["Metric"]["MetricName"]


def expression(alarm: dict[str, Any]) -> str:
    (returned,) = [m for m in alarm["Metrics"] if m.get("ReturnData")]
    return str(returned["Expression"])


def test_cache_and_database_alarms_watch_the_sized_limits(template: Template) -> None:
    alarms = {name: res["Properties"] for name, res in resources(template, "AWS::CloudWatch::Alarm").items()}
    topic = [{"Ref": "AlarmTopic"}]
    cache_dims = [{"Name": "clusterId", "Value": {"Ref": "Cache"}}]
    db_dims = [{"Name": "DBClusterIdentifier", "Value": {"Ref": "DatabaseCluster"}}]
    params = stage_params(STAGE)
    names = (
        "CacheThrottledAlarm",
        "CacheEvictionsAlarm",
        "CacheStorageAlarm",
        "CacheEcpuAlarm",
        "DatabaseConnectionsAlarm",
        "DatabaseCapacityAlarm",
    )
    for name in names:
        assert alarms[name]["AlarmActions"] == topic, name
        assert alarms[name]["OKActions"] == topic, name
        assert alarms[name]["ComparisonOperator"] == "GreaterThanThreshold", name
    for name, metric in (("CacheThrottledAlarm", "ThrottledCmds"), ("CacheEvictionsAlarm", "Evictions")):
        alarm = alarms[name]
        assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/ElastiCache", metric)
        assert alarm["Statistic"] == "Sum"
        assert alarm["Dimensions"] == cache_dims
        assert alarm["Threshold"] == 0  # any throttled command or evicted key
    limits = template["Resources"]["Cache"]["Properties"]["CacheUsageLimits"]
    assert limits["DataStorage"]["Maximum"] == params["cacheMaxDataGb"]
    assert limits["ECPUPerSecond"]["Maximum"] == params["cacheMaxEcpuPerSecond"]
    storage = alarms["CacheStorageAlarm"]
    (stat,) = metric_stats(storage).values()
    assert named(stat) == ("AWS/ElastiCache", "BytesUsedForCache")
    assert stat["Metric"]["Dimensions"] == cache_dims
    assert expression(storage) == f"100 * bytes / ({limits['DataStorage']['Maximum']} * 1000000000)"
    assert storage["Threshold"] == params["cacheAlarmPercent"]
    ecpu = alarms["CacheEcpuAlarm"]
    (stat,) = metric_stats(ecpu).values()
    assert named(stat) == ("AWS/ElastiCache", "ElastiCacheProcessingUnits")
    assert stat["Metric"]["Dimensions"] == cache_dims
    assert (stat["Stat"], stat["Period"]) == ("Sum", 60)
    assert expression(ecpu) == f"100 * (ecpu / 60) / {limits['ECPUPerSecond']['Maximum']}"
    assert ecpu["Threshold"] == params["cacheAlarmPercent"]
    connections = alarms["DatabaseConnectionsAlarm"]
    (stat,) = metric_stats(connections).values()
    assert named(stat) == ("AWS/RDS", "DatabaseConnections")
    assert stat["Metric"]["Dimensions"] == db_dims
    mapping = next(iter(resources(template, "AWS::Lambda::EventSourceMapping").values()))["Properties"]
    budget = f"({mapping['ScalingConfig']['MaximumConcurrency']} + {params['databaseOtherConnections']})"
    assert expression(connections) == f"100 * connections / {budget}"
    assert connections["Threshold"] == params["databaseConnectionsAlarmPercent"]
    capacity = alarms["DatabaseCapacityAlarm"]
    assert (capacity["Namespace"], capacity["MetricName"]) == ("AWS/RDS", "ACUUtilization")
    assert capacity["Dimensions"] == db_dims
    assert capacity["Threshold"] == params["databaseAcuAlarmPercent"]
    assert capacity["TreatMissingData"] == "notBreaching"  # a paused dev database reports nothing


# Sizing inputs, as infra/cloudformation/README.md (Sizing) states them. Bytes per key were measured on a
# redis-server with the same commands and TTLs; Valkey stores keys more compactly.
LEARNERS = 100_000
MESSAGES_PER_LEARNER_DAY = 50  # each a turn, answered with one merged reply
PEAK_HOUR_SHARE = Fraction(15, 100)
TURN_SECONDS = 2  # README: a 1 GB tutor turn of ~2 s
CONCURRENCY_HEADROOM = Fraction(3, 2)
DEDUPE_DAYS = 7  # Meta retries an undelivered webhook for up to 7 days
SEEN_BYTES, STATUS_BYTES, STATE_BYTES, PACE_BYTES = 160, 250, 2048, 170
OTHER_BYTES = 10**9  # LLM cache, held messages, late corrections (bounded by topics and learners)
STORAGE_HEADROOM = Fraction(3, 2)
GB = 10**9  # as ElastiCache counts its usage limit
# ECPUs a turn: 1 per small command, 2 per ~1-2 KB value, 3 per Lua script (billed by vCPU time).
ECPUS_PER_TURN = {
    "webhook: GET + SET of the wamid": 2,
    "webhook: 3 delivery statuses x EVAL": 9,
    "tutor: state GET + SET (~1-2 KB)": 4,
    "tutor: pace slot EVAL": 3,
    "tutor: token bucket EVAL": 3,
    "tutor: held LRANGE": 1,
    "tutor: late corrections LRANGE + DEL": 2,
    "tutor: LLM cache GET (+ occasional SET)": 3,
}
ECPU_HEADROOM = 2


def planned_sizing() -> dict[str, Any]:
    turns_per_day = LEARNERS * MESSAGES_PER_LEARNER_DAY
    peak_turns_per_second = Fraction(turns_per_day) * PEAK_HOUR_SHARE / 3600
    busy_tutors = peak_turns_per_second * TURN_SECONDS
    stored = turns_per_day * DEDUPE_DAYS * (SEEN_BYTES + STATUS_BYTES)
    stored += LEARNERS * (STATE_BYTES + PACE_BYTES) + OTHER_BYTES
    ecpus_per_turn = math.ceil(sum(ECPUS_PER_TURN.values()) / 10) * 10  # 27, rounded up to 30
    peak_ecpu = peak_turns_per_second * ecpus_per_turn
    return {
        "peak_turns_per_second": peak_turns_per_second,
        "busy_tutors": busy_tutors,
        "tutorMaxConcurrency": math.ceil(busy_tutors * CONCURRENCY_HEADROOM),
        "stored_bytes": stored,
        "cacheMaxDataGb": math.ceil(Fraction(stored) * STORAGE_HEADROOM / GB),
        "peak_ecpu": peak_ecpu,
        "cacheMaxEcpuPerSecond": math.ceil(peak_ecpu * ECPU_HEADROOM),
    }


def test_prod_is_sized_for_100k_learners() -> None:
    """prod's ceilings follow from the stated inputs (208 turns/s at the peak: 625 tutors, 24 GB,
    12,500 ECPU/s), and each alarm fires past the plan but before its limit bites."""
    plan = planned_sizing()
    prod = stage_params("prod")
    for name in ("tutorMaxConcurrency", "cacheMaxDataGb", "cacheMaxEcpuPerSecond"):
        assert prod[name] == plan[name], name
    assert (plan["tutorMaxConcurrency"], plan["cacheMaxDataGb"], plan["cacheMaxEcpuPerSecond"]) == (
        625,
        24,
        12_500,
    )
    assert 2 <= prod["tutorMaxConcurrency"] <= 1000  # the SQS event source's maximumConcurrency range
    # Alarms: above the planned steady state / peak, below the ceiling.
    cache_alarm = Fraction(prod["cacheAlarmPercent"], 100)
    assert plan["stored_bytes"] < cache_alarm * prod["cacheMaxDataGb"] * GB
    assert plan["peak_ecpu"] < cache_alarm * prod["cacheMaxEcpuPerSecond"]
    budget = prod["tutorMaxConcurrency"] + prod["databaseOtherConnections"]
    planned_connections = plan["busy_tutors"] + prod["databaseOtherConnections"]
    assert planned_connections < Fraction(prod["databaseConnectionsAlarmPercent"], 100) * budget < budget
    # Aurora PostgreSQL's max_connections, LEAST(memory / 9531392, 5000), from the maximum ACUs (2 GiB each).
    max_connections = min(prod["databaseMaxCapacity"] * 2 * 1024**3 // 9_531_392, 5000)
    assert budget < max_connections / 2  # room for operators, RDS Proxy pinning, a redeploy's overlap
    # dev stays small.
    dev = stage_params("dev")
    assert dev["tutorMaxConcurrency"] <= 10
    assert dev["cacheMaxDataGb"] <= 1
    assert dev["cacheMaxEcpuPerSecond"] <= 5000


def test_dedupe_ttl_is_metas_retry_horizon(template: Template) -> None:
    """Meta retries an undelivered webhook for up to 7 days: wamids (and delivery statuses) are remembered
    exactly that long, in the deployed webhook and in the settings' default."""
    seven_days = DEDUPE_DAYS * 24 * 3600
    assert Settings.model_fields["dedupe_ttl_seconds"].default == seven_days
    for stage in ("dev", "prod"):
        assert stage_params(stage)["dedupeTtlSeconds"] == seven_days, stage
    assert function(template, "webhook")["Environment"]["Variables"]["DEDUPE_TTL_SECONDS"] == str(seven_days)
