"""trackses' own template (template.yaml): what IAM and Lambda enforce for the functions, read
from the template itself, so a change that widens a privilege fails here before any deploy.

- Only `wiring` may open customer credentials (kms:Decrypt) or assume customer roles, and an
  explicit Deny keeps it out of roles in trackses' own account.
- The internet-facing functions (api, webhook, ingest-sns, stack-callback) hold neither.
- Every function has a reserved concurrency, and a throttle alarm watches it.
- Every alarm tells the alarm topic when it fires and when it clears; every function has an
  Errors alarm; refused signatures, ingest-sns refusals, API 5xx and table throttles are watched.
- Every function is traced (X-Ray) and logs JSON to a log group of its own with the stack's
  retention; the HTTP API writes a JSON access log, also with that retention.
- The operations dashboard is valid JSON once !Sub has filled it in, and shows the application's
  metrics (events stored, refused, duplicates, store latency) beside every function's.
- No template names the aws partition in an ARN.
"""

import json
import re
from pathlib import Path

from support import TemplateLoader

import yaml

ROOT = Path(__file__).resolve().parents[3]
TEMPLATE = ROOT / "template.yaml"
INTERNET_FACING = ["ApiFunction", "WebhookFunction", "IngestSnsFunction", "StackCallbackFunction",
                   "IngestEventBridgeFunction", "ForwardFunction", "DeliverFunction", "SweepFunction",
                   "MailFunction"]


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
    assert len(functions(found)) == 11
    watched = {
        r["Properties"]["Dimensions"][0]["Value"]["Ref"]
        for r in found.values()
        if r["Type"] == "AWS::CloudWatch::Alarm" and r["Properties"].get("MetricName") == "Throttles"
    }
    for name in functions(found):
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


def functions(found):
    return [n for n, r in found.items() if r["Type"] == "AWS::Serverless::Function"]


def test_every_function_has_an_errors_alarm():
    found = resources()
    watched = {
        a["Dimensions"][0]["Value"]["Ref"]
        for a in alarms(found).values()
        if a.get("Namespace") == "AWS/Lambda" and a.get("MetricName") == "Errors"
    }
    for name in functions(found):
        assert name in watched, name


def metric_stats(alarm):
    """A metric-math alarm's metrics by Id: (namespace, name, {dimension: value})."""
    return {
        q["Id"]: (q["MetricStat"]["Metric"]["Namespace"], q["MetricStat"]["Metric"]["MetricName"],
                  {d["Name"]: d["Value"] for d in q["MetricStat"]["Metric"]["Dimensions"]})
        for q in alarm["Metrics"] if "MetricStat" in q
    }


def test_metric_math_alarms_return_only_their_expression_over_all_their_metrics():
    for name, alarm in alarms(resources()).items():
        if "Metrics" not in alarm:
            continue
        returned = [q for q in alarm["Metrics"] if q.get("ReturnData", True)]
        assert len(returned) == 1 and "Expression" in returned[0], name
        # Every metric fetched is used (none forgotten when a reason is added). Ids start lower
        # case, functions (SUM) upper case.
        used = set(re.findall(r"\b[a-z][A-Za-z0-9_]*", returned[0]["Expression"]))
        assert used == set(metric_stats(alarm)), name


# The contract of the functions' EMF metrics (namespace trackses): RefusedMessages by Function and
# Reason; these are the reasons the SNS entries count as refused (`store` is a failure after
# acceptance, counted as Failures: SNS or Lambda delivers it again).
SNS_REFUSAL_REASONS = {"envelope", "signature", "unregistered_topic", "unproven_topic", "stale",
                       "not_ses", "confirm"}


def test_refusals_are_watched_by_signature_at_every_sns_entry_and_in_total_at_ingest_sns():
    found = alarms(resources())
    signature = {
        tuple(sorted((d["Name"], d["Value"]) for d in a["Dimensions"]))
        for a in found.values() if a.get("MetricName") == "RefusedMessages"
    }
    for function in ("webhook", "ingest-sns", "stack-callback"):
        assert (("Function", function), ("Reason", "signature")) in signature, function
    totals = [metric_stats(a) for a in found.values() if "Metrics" in a]
    ingest = [m for m in totals
              if {v[1] for v in m.values()} == {"RefusedMessages"}
              and {v[2]["Function"] for v in m.values()} == {"ingest-sns"}]
    assert len(ingest) == 1, totals
    assert {v[2]["Reason"] for v in ingest[0].values()} == SNS_REFUSAL_REASONS
    assert all(v[0] == "trackses" and set(v[2]) == {"Function", "Reason"} for v in ingest[0].values())
    # The metric's old dimension (Entry) is no longer published: an alarm on it would never fire.
    assert not [a for a in found.values() for d in a.get("Dimensions", []) if d["Name"] == "Entry"]


def test_the_api_and_the_table_are_watched():
    found = alarms(resources())
    api = [a for a in found.values() if a.get("Namespace") == "AWS/ApiGateway"]
    assert [a["MetricName"] for a in api] == ["5xx"]
    assert {d["Name"]: d["Value"] for d in api[0]["Dimensions"]} == {
        "ApiId": {"Ref": "HttpApi"}, "Stage": "$default"}
    throttles = {
        (v[1], v[2].get("GlobalSecondaryIndexName"))
        for a in found.values() if "Metrics" in a for v in metric_stats(a).values()
        if v[0] == "AWS/DynamoDB" and v[2]["TableName"] == {"Ref": "Table"}
    }
    assert throttles == {(m, i) for m in ("ReadThrottleEvents", "WriteThrottleEvents")
                         for i in (None, "gsi1")}


def with_globals(template, name):
    """A function's properties as SAM deploys them: Globals.Function under its own, maps merged
    (SAM merges a map in Globals with the function's, the function winning), the rest replaced."""
    merged = dict(template.get("Globals", {}).get("Function", {}))
    for key, value in template["Resources"][name]["Properties"].items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


def test_every_function_is_traced_and_logs_json_to_a_group_with_retention():
    template = yaml.load(TEMPLATE.read_text(), Loader=TemplateLoader)
    found = template["Resources"]
    groups = set()
    for name in functions(found):
        properties = with_globals(template, name)
        assert properties.get("Tracing") == "Active", name
        logging = properties.get("LoggingConfig", {})
        assert logging.get("LogFormat") == "JSON", name
        group = logging.get("LogGroup", {}).get("Ref")
        assert group and found[group]["Type"] == "AWS::Logs::LogGroup", name
        assert found[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name
        groups.add(group)
    # A group of its own each: one function's flood does not bury another's lines.
    assert len(groups) == len(functions(found))


def test_log_retention_offers_only_what_cloudwatch_logs_accepts():
    parameter = yaml.load(TEMPLATE.read_text(), Loader=TemplateLoader)["Parameters"]["LogRetentionDays"]
    accepted = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                2557, 2922, 3288, 3653]
    assert parameter["AllowedValues"] == accepted
    assert parameter["Default"] in accepted


def test_the_http_api_writes_a_json_access_log_to_a_group_with_retention():
    found = resources()
    settings = found["HttpApi"]["Properties"]["AccessLogSettings"]
    group = settings["DestinationArn"]["Fn::GetAtt"]
    assert group[1] == "Arn" and found[group[0]]["Type"] == "AWS::Logs::LogGroup"
    assert found[group[0]]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # API Gateway substitutes the $context variables inside the quotes: what it writes is JSON.
    line = json.loads(re.sub(r"\$context\.[A-Za-z.]+", "x", settings["Format"]))
    assert set(line) >= {"requestId", "ip", "requestTime", "httpMethod", "routeKey", "status",
                         "responseLength", "integrationLatency", "integrationErrorMessage"}
    assert "$context.requestId" in settings["Format"]  # API Gateway requires it


def test_the_operations_dashboard_is_json_and_shows_what_trackses_did():
    template = yaml.load(TEMPLATE.read_text(), Loader=TemplateLoader)
    [body] = [r["Properties"]["DashboardBody"]["Fn::Sub"] for r in template["Resources"].values()
              if r["Type"] == "AWS::CloudWatch::Dashboard"]
    # Every ${...} names something !Sub can resolve: a resource (or its attribute), a parameter
    # or a pseudo parameter.
    known = set(template["Resources"]) | set(template["Parameters"])
    for name in re.findall(r"\$\{([^}]*)\}", body):
        assert name.startswith("AWS::") or name.split(".")[0] in known, name
    dashboard = json.loads(re.sub(r"\$\{[^}]*\}", "placeholder", body))
    text = json.dumps(dashboard)
    for metric in ("EventsStored", "RefusedMessages", "Failures", "DuplicateDeliveries",
                   "StoreLatency", "ColdStart", "EventsCounted", "IteratorAge"):
        assert metric in text, metric
    for widget in dashboard["widgets"]:
        assert widget["properties"].get("region") == "placeholder", widget  # ${AWS::Region}
        # CloudWatch draws at most one Metrics Insights query per graph.
        assert json.dumps(widget).count("SELECT ") <= 1, widget
    # A function that exists only under a condition cannot be named in the dashboard's !Sub.
    for function in functions(template["Resources"]):
        if "Condition" not in template["Resources"][function]:
            assert "${%s}" % function in body, function


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


def http_routes(found):
    """(method, path, function) of every HttpApi event in the template."""
    for name in functions(found):
        for event in found[name]["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                yield event["Properties"]["Method"], event["Properties"]["Path"], name


def route_for(routes, method, path):
    """API Gateway's choice for a request: a route without a greedy {proxy+} beats one with it;
    among those left, the most literal segments win (HTTP API route precedence)."""
    def matches(pattern):
        want, got = pattern.strip("/").split("/"), path.strip("/").split("/")
        if want[-1].endswith("+}"):
            return len(got) >= len(want) and all(
                w.startswith("{") or w == g for w, g in zip(want[:-1], got)) and got != [""]
        return len(want) == len(got) and all(w.startswith("{") or w == g for w, g in zip(want, got))

    candidates = [(m, p, f) for m, p, f in routes if m in ("ANY", method) and matches(p)]
    assert candidates, (method, path)
    return max(candidates, key=lambda r: ("+}" not in r[1], sum(not s.startswith("{") for s in r[1].split("/"))))[2]


def test_every_path_reaches_the_function_that_serves_it():
    found = resources()
    routes = list(http_routes(found))
    for method, path in [("GET", "/"), ("GET", "/health"), ("GET", "/v1/regions"),
                         ("GET", "/v1/session"), ("POST", "/v1/projects"),
                         ("GET", "/v1/projects/prj_1/events"), ("GET", "/dashboard/app.js"),
                         ("DELETE", "/v1/projects/prj_1/connections/con_1"),
                         ("GET", "/no/such/route")]:
        assert route_for(routes, method, path) == "ApiFunction", path
    assert route_for(routes, "POST", "/v1/hooks/sns/con_1") == "WebhookFunction"
    assert route_for(routes, "POST", "/v1/hooks/cloudformation") == "StackCallbackFunction"


def deployed_resources():
    """The resources as SAM's translator (the one `sam deploy` uses) turns them into
    CloudFormation's, with what SAM adds itself (permissions, roles, function URLs)."""
    import os
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    class NoManagedPolicies:
        def load(self):
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
    # CodeUri: . is what `sam build` replaces; the translator wants an S3 location.
    text = TEMPLATE.read_text().replace("CodeUri: .", "CodeUri: s3://bucket/key")
    return transform(yaml_parse(text), {}, NoManagedPolicies())["Resources"]


def test_sns_delivers_to_the_webhook_function_url_and_earlier_subscriptions_keep_their_route():
    found = resources()
    webhook = found["WebhookFunction"]["Properties"]
    assert webhook["FunctionUrlConfig"] == {"AuthType": "NONE"}
    for name in ("ApiFunction", "WiringFunction"):
        variables = found[name]["Properties"]["Environment"]["Variables"]
        assert variables["TRACKSES_WEBHOOK_URL"] == {"Fn::GetAtt": ["WebhookFunctionUrl", "FunctionUrl"]}, name
    assert webhook["Events"]["SnsHook"]["Properties"]["Path"] == "/v1/hooks/sns/{cid}"
    # What everyone may do, once deployed: call the function URL, and invoke the function only
    # through it (AWS wants both since October 2025); nothing else is granted to "*".
    public = [r["Properties"] for r in deployed_resources().values()
              if r["Type"] == "AWS::Lambda::Permission" and r["Properties"]["Principal"] == "*"]
    webhook_grants = sorted((p["Action"], p.get("FunctionUrlAuthType"), p.get("InvokedViaFunctionUrl"))
                            for p in public if p["FunctionName"] == {"Ref": "WebhookFunction"})
    assert webhook_grants == [("lambda:InvokeFunction", None, True),
                              ("lambda:InvokeFunctionUrl", "NONE", None)]
    assert all(p["FunctionName"] == {"Ref": "WebhookFunction"} for p in public), public


def test_the_webhook_function_url_5xx_are_watched():
    alarm = resources()["WebhookUrl5xxAlarm"]["Properties"]
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/Lambda", "Url5xxCount")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "WebhookFunction"}}]
