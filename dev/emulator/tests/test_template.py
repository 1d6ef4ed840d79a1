"""trackses' own template (template.yaml): what IAM and Lambda enforce for the functions, read
from the template itself, so a change that widens a privilege fails here before any deploy.

- Only `wiring` may open customer credentials (kms:Decrypt) or assume customer roles, and an
  explicit Deny keeps it out of roles in trackses' own account.
- The internet-facing functions (api, webhook, ingest-sns, stack-callback) hold neither.
- Every function has a reserved concurrency, and a throttle alarm watches it.
"""

import re
from pathlib import Path

from support import TemplateLoader

import yaml

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "template.yaml"
INTERNET_FACING = ["ApiFunction", "WebhookFunction", "IngestSnsFunction", "StackCallbackFunction"]


def resources():
    return yaml.load(TEMPLATE.read_text(), Loader=TemplateLoader)["Resources"]


def statements(function):
    for policy in function["Properties"].get("Policies", []):
        yield from policy.get("Statement", [])


def actions(statement):
    value = statement["Action"]
    return value if isinstance(value, list) else [value]


def test_only_wiring_decrypts_or_assumes_and_never_in_its_own_account():
    found = resources()
    for name in INTERNET_FACING:
        granted = {a for s in statements(found[name]) if s["Effect"] == "Allow" for a in actions(s)}
        assert "kms:Decrypt" not in granted, name
        assert "sts:AssumeRole" not in granted, name
    wiring = list(statements(found["WiringFunction"]))
    deny = [s for s in wiring if s["Effect"] == "Deny" and "sts:AssumeRole" in actions(s)]
    assert deny, "wiring must be denied roles of trackses' own account"
    assert "${AWS::AccountId}:role/*" in deny[0]["Resource"]["Fn::Sub"]


def test_every_function_has_reserved_concurrency_and_a_throttle_alarm():
    found = resources()
    functions = [n for n, r in found.items() if r["Type"] == "AWS::Serverless::Function"]
    assert len(functions) == 5
    watched = {
        r["Properties"]["Dimensions"][0]["Value"]["Ref"]
        for r in found.values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"].get("MetricName") == "Throttles"
    }
    for name in functions:
        assert "Ref" in found[name]["Properties"]["ReservedConcurrentExecutions"], name
        assert name in watched, name


def alarms(found):
    return {n: r["Properties"] for n, r in found.items() if r["Type"] == "AWS::CloudWatch::Alarm"}


def test_every_alarm_notifies_the_alarm_topic_when_it_fires_and_when_it_clears():
    found = resources()
    assert found["AlarmTopic"]["Type"] == "AWS::SNS::Topic"
    # The AWS managed aws/sns key would silently swallow every alarm (CloudWatch may not use it).
    assert "alias/aws/sns" not in str(found["AlarmTopic"].get("Properties", {}))
    assert alarms(found)
    for name, alarm in alarms(found).items():
        assert alarm.get("AlarmActions") == [{"Ref": "AlarmTopic"}], name
        assert alarm.get("OKActions") == [{"Ref": "AlarmTopic"}], name
        assert alarm.get("AlarmDescription"), name


def test_public_url_is_required_and_https():
    parameter = yaml.load(TEMPLATE.read_text(), Loader=TemplateLoader)["Parameters"]["PublicUrl"]
    assert "Default" not in parameter
    assert parameter["ConstraintDescription"]
    # CloudFormation matches AllowedPattern against the whole value, as re.fullmatch does.
    pattern = re.compile(parameter["AllowedPattern"])
    for good in ["https://trackses.example.com", "https://trackses.example.com:8443/base/",
                 "https://abc123.execute-api.eu-west-1.amazonaws.com"]:
        assert pattern.fullmatch(good), good
    for bad in ["http://trackses.example.com", "https://user@trackses.example.com",
                "https://user:secret@trackses.example.com", "https://evil.example@trackses.example.com",
                "https://trackses.example.com/?x=1", "https://trackses.example.com/#x",
                "HTTPS://trackses.example.com", "https://", " https://trackses.example.com"]:
        assert not pattern.fullmatch(bad), bad


def test_the_admin_token_is_read_from_parameter_store_not_the_environment():
    found = resources()
    variables = found["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert "TRACKSES_ADMIN_TOKEN" not in variables
    assert variables["TRACKSES_ADMIN_TOKEN_PARAMETER"] == {"Ref": "AdminTokenParameter"}
    granted = {a for s in statements(found["ApiFunction"]) for a in actions(s)}
    assert "ssm:GetParameter" in granted


def test_no_template_names_a_partition():
    """aws-cn and aws-us-gov deployments (and customers there) get the same templates: every ARN
    is built with ${AWS::Partition}."""
    for path in [TEMPLATE, *sorted((ROOT / "cloudformation").glob("*.yaml"))]:
        assert "arn:aws:" not in path.read_text(), path.relative_to(ROOT)
