"""The cross-account role mode's customer template (cloudformation/customer-role.yaml), deployed in
an emulated customer account: its SNS-backed custom resource calls trackses' callback topic the
way CloudFormation does (signed SNS Notification carrying the request document, answered by PUT
to the ResponseURL), and what it creates is what trackses may use, and no more."""

import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from botocore.exceptions import ClientError
from cryptography import x509

from support import TemplateLoader, verify
from test_sts_iam import assert_trackses_sets_only, client_of, denied

REGION = "eu-west-1"  # the stack and trackses' callback topic must share a region
TRACKSES = "123456789012"
CUSTOMER = "210987654321"
TEMPLATE = Path(__file__).resolve().parents[3] / "cloudformation" / "customer-role.yaml"
SAMPLES = Path(__file__).resolve().parents[3] / "events" / "cloudformation"
# The policy trackses asks customers to grant: the role's inline policy is this file.
POLICY = Path(__file__).resolve().parents[3] / "docs" / "customer-iam-policy.json"
EXTERNAL_ID = "trackses:org-7f3a9c2e/ext=Kq8+Zr1,x@y.z"
TOKEN = "conn_4b1d9e7f2a6c8e0d"
EVENT_TYPES = ["SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "OPEN", "CLICK",
               "RENDERING_FAILURE", "DELIVERY_DELAY", "SUBSCRIPTION"]


def client(emulator, service, account=CUSTOMER):
    region_client = emulator.client(service, REGION)
    if account != TRACKSES:
        region_client.meta.events.register(
            "before-sign.*.*", lambda request, **_: request.headers.add_header(
                "x-moto-account-id", account))
    return region_client




def in_partition(value, partition="aws"):
    """`value` as CloudFormation resolves it in `partition`: the policy's only intrinsic is
    !Sub "arn:${AWS::Partition}:...", anything else stays unresolved (and fails the comparison)."""
    if isinstance(value, dict):
        if list(value) == ["Fn::Sub"] and isinstance(value["Fn::Sub"], str):
            return value["Fn::Sub"].replace("${AWS::Partition}", partition)
        return {k: in_partition(v, partition) for k, v in value.items()}
    if isinstance(value, list):
        return [in_partition(v, partition) for v in value]
    return value


def test_template_role_policy_is_the_published_policy():
    """docs/customer-iam-policy.json is the one source: the role's only inline policy is that
    document, statement for statement, but for the partition the stack's ARNs name (the document
    says aws; IAM has no policy variable for the partition)."""
    template = yaml.load(TEMPLATE.read_text(), Loader=TemplateLoader)
    policies = in_partition(template["Resources"]["Role"]["Properties"]["Policies"])
    published = json.loads(POLICY.read_text())
    assert policies == [{"PolicyName": "trackses", "PolicyDocument": published}], policies
    assert len({s["Sid"] for s in published["Statement"]}) == len(published["Statement"])
    assert "ses:Send" not in POLICY.read_text()


def wait_status(cfn, stack_id, wanted):
    for _ in range(50):
        stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        if stack["StackStatus"] == wanted:
            return stack
        time.sleep(0.1)
    raise AssertionError(f"{stack_id}: {stack['StackStatus']} != {wanted}")


def callback_topic(emulator, receiver, name):
    """trackses' callback topic (its own account), with `receiver` subscribed and confirmed."""
    sns = emulator.client("sns", REGION)
    arn = sns.create_topic(Name=name, Attributes={"SignatureVersion": "2"})["TopicArn"]
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=f"{receiver.url}/{name}")
    confirmation = json.loads(receiver.get(f"/{name}")[1])
    sns.confirm_subscription(TopicArn=arn, Token=confirmation["Token"])
    return arn


def next_request(emulator, receiver, path):
    """The custom resource request in the next Notification POSTed to `path`, signature checked."""
    cert_name = next(emulator.cert_dir.iterdir()).name
    cert = x509.load_pem_x509_certificate(emulator.cert_dir.joinpath(cert_name).read_bytes())
    headers, body = receiver.get(path)
    msg = json.loads(body)
    assert msg["Type"] == "Notification", msg
    assert msg["Subject"] == "AWS CloudFormation custom resource request", msg
    verify(msg, cert, cert_name, "2")
    return json.loads(msg["Message"])


def same_shape_as_sample(request, sample):
    """The Rust side's samples in events/cloudformation/ have the keys the emulator sends."""
    expected = json.loads((SAMPLES / sample).read_text())
    assert list(request) == list(expected), (list(request), list(expected))
    assert list(request["ResourceProperties"]) == list(expected["ResourceProperties"])


def answer(request, status="SUCCESS", **fields):
    body = {"Status": status, "PhysicalResourceId": TOKEN, "StackId": request["StackId"],
            "RequestId": request["RequestId"],
            "LogicalResourceId": request["LogicalResourceId"], "Data": {}, **fields}
    return put(request["ResponseURL"], json.dumps(body).encode())


def put(url, data):
    # Like a pre-signed S3 PUT: no Content-Type, no signature.
    req = urllib.request.Request(url, data=data, method="PUT", headers={"Content-Type": ""})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def recorded(emulator, request_id):
    with urllib.request.urlopen(f"{emulator.base}/_trackses/cloudformation/responses") as resp:
        return [r for r in json.load(resp) if r["request_id"] == request_id]


def parameters(webhook, callback_arn, token=TOKEN):
    """Delivery=sns: SES -> the stack's topic -> trackses' webhook (test_eventbridge.py deploys
    the template with Delivery=eventbridge)."""
    values = {"TrackSesAccountId": TRACKSES, "ExternalId": EXTERNAL_ID, "Delivery": "sns",
              "EventBusArn": f"arn:aws:events:{REGION}:{TRACKSES}:event-bus/trackses-ses-events",
              "WebhookUrl": webhook, "ConnectionToken": token, "CallbackTopicArn": callback_arn}
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def test_customer_stack_registers_through_the_callback_topic(emulator, receiver):
    callback = callback_topic(emulator, receiver, "trackses-callback")
    cfn = client(emulator, "cloudformation")
    webhook = f"{receiver.url}/webhook"
    stack_id = cfn.create_stack(
        StackName="trackses", TemplateBody=TEMPLATE.read_text(), Capabilities=["CAPABILITY_IAM"],
        Parameters=parameters(webhook, callback),
    )["StackId"]
    stack_uuid = stack_id.rsplit("/", 1)[1]
    topic = f"arn:aws:sns:{REGION}:{CUSTOMER}:trackses-{stack_uuid}"

    # The Create request, as CloudFormation publishes it to trackses' topic.
    create = next_request(emulator, receiver, "/trackses-callback")
    assert stack_id.startswith(f"arn:aws:cloudformation:{REGION}:{CUSTOMER}:stack/trackses/")
    role_arn = create["ResourceProperties"]["RoleArn"]
    assert role_arn.startswith(f"arn:aws:iam::{CUSTOMER}:role/"), create
    assert create == {
        "RequestType": "Create", "ServiceToken": callback,
        "ResponseURL": f"{emulator.base}/_trackses/cloudformation/responses/{create['RequestId']}",
        "StackId": stack_id, "RequestId": create["RequestId"], "LogicalResourceId": "Connection",
        "ResourceType": "Custom::TrackSesConnection",
        "ResourceProperties": {
            "ServiceToken": callback, "ServiceTimeout": "900", "ConnectionToken": TOKEN,
            "RoleArn": role_arn, "Delivery": "sns",
            "TopicArn": topic, "ConfigurationSetName": f"trackses-{stack_uuid}",
            "ExternalId": EXTERNAL_ID,
        },
    }, create
    same_shape_as_sample(create, "create.json")
    # The subscription depends on the connection: its confirmation comes after the request.
    confirmation = json.loads(receiver.get("/webhook")[1])
    assert confirmation["Type"] == "SubscriptionConfirmation", confirmation
    assert confirmation["TopicArn"] == topic, confirmation

    # The stack waits for trackses' answer.
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == \
        "CREATE_IN_PROGRESS"
    assert answer(create) == 200
    stack = wait_status(cfn, stack_id, "CREATE_COMPLETE")
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]} == {
        "RoleArn": role_arn, "TopicArn": topic, "ConfigurationSetName": f"trackses-{stack_uuid}",
    }, stack["Outputs"]
    [entry] = recorded(emulator, create["RequestId"])
    assert entry["request_type"] == "Create" and entry["problem"] is None, entry
    assert entry["response"]["Status"] == "SUCCESS", entry

    check_role(emulator, role_arn)
    check_topic_and_configuration_set(emulator, topic, f"trackses-{stack_uuid}")

    # A new connection token updates the connection, naming the previous properties.
    cfn.update_stack(
        StackName=stack_id, TemplateBody=TEMPLATE.read_text(), Capabilities=["CAPABILITY_IAM"],
        Parameters=parameters(webhook, callback, token="conn_second_token_0001"),
    )
    update = next_request(emulator, receiver, "/trackses-callback")
    assert update["RequestType"] == "Update", update
    assert update["PhysicalResourceId"] == TOKEN, update
    assert update["ResourceProperties"]["ConnectionToken"] == "conn_second_token_0001", update
    assert update["OldResourceProperties"] == create["ResourceProperties"], update
    same_shape_as_sample(update, "update.json")
    assert answer(update) == 200
    wait_status(cfn, stack_id, "UPDATE_COMPLETE")

    cfn.delete_stack(StackName=stack_id)
    delete = next_request(emulator, receiver, "/trackses-callback")
    assert delete["RequestType"] == "Delete", delete
    assert delete["PhysicalResourceId"] == TOKEN, delete
    assert delete["ResourceProperties"] == update["ResourceProperties"], delete
    same_shape_as_sample(delete, "delete.json")
    assert answer(delete) == 200
    assert recorded(emulator, delete["RequestId"])[0]["problem"] is None
    wait_status(cfn, stack_id, "DELETE_COMPLETE")


def check_role(emulator, role_arn):
    sts = client(emulator, "sts", TRACKSES)
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="trackses",
                            ExternalId=EXTERNAL_ID)["Credentials"]
    session = emulator.client("sts", REGION, creds["AccessKeyId"], creds["SecretAccessKey"],
                              creds["SessionToken"])
    assert session.get_caller_identity()["Account"] == CUSTOMER
    for wrong in ({"ExternalId": "someone-elses-id"}, {}):
        with pytest.raises(ClientError) as exc:
            sts.assume_role(RoleArn=role_arn, RoleSessionName="trackses", **wrong)
        denied(exc)
    with pytest.raises(ClientError) as exc:  # the right id from another account
        client(emulator, "sts", "333333333333").assume_role(
            RoleArn=role_arn, RoleSessionName="other", ExternalId=EXTERNAL_ID)
    denied(exc)

    # The published policy, nothing else; a session of the role holds exactly that.
    iam = client(emulator, "iam")
    role_name = role_arn.rsplit("/", 1)[1]
    assert iam.list_role_policies(RoleName=role_name)["PolicyNames"] == ["trackses"]
    assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == []
    document = iam.get_role_policy(RoleName=role_name, PolicyName="trackses")["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    assert document == json.loads(POLICY.read_text()), document

    as_role = {s: emulator.client(s, REGION, creds["AccessKeyId"], creds["SecretAccessKey"],
                                  creds["SessionToken"]) for s in ("sesv2", "sns")}
    caller = f"arn:aws:sts::{CUSTOMER}:assumed-role/{role_name}/trackses"
    assert_trackses_sets_only(as_role["sesv2"], client(emulator, "sesv2"), caller,
                              "template-role")
    as_role["sns"].create_topic(Name="trackses-allowed")
    with pytest.raises(ClientError) as exc:
        as_role["sns"].create_topic(Name="not-trackses")
    denied(exc, "AuthorizationError")


def check_topic_and_configuration_set(emulator, topic, set_name):
    attrs = client(emulator, "sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attrs["SignatureVersion"] == "2", attrs
    assert json.loads(attrs["Policy"])["Statement"] == [{
        "Sid": "AllowSESPublish", "Effect": "Allow",
        "Principal": {"Service": "ses.amazonaws.com"}, "Action": "sns:Publish",
        "Resource": topic, "Condition": {"StringEquals": {"AWS:SourceAccount": CUSTOMER}},
    }], attrs
    dests = client(emulator, "sesv2").get_configuration_set_event_destinations(
        ConfigurationSetName=set_name)["EventDestinations"]
    assert dests == [{"Name": "trackses-sns", "Enabled": True, "MatchingEventTypes": EVENT_TYPES,
                      "SnsDestination": {"TopicArn": topic}}], dests


GENERIC = {"Resources": {"Thing": {
    "Type": "AWS::CloudFormation::CustomResource",
    "Properties": {"ServiceToken": None, "Enabled": True, "Count": 3, "Names": ["a", 1]},
}}}


def generic_stack(emulator, name, callback):
    template = json.loads(json.dumps(GENERIC))
    template["Resources"]["Thing"]["Properties"]["ServiceToken"] = callback
    return emulator.client("cloudformation", REGION).create_stack(
        StackName=name, TemplateBody=json.dumps(template))["StackId"]


def test_failed_or_invalid_answers_fail_the_stack(emulator, receiver):
    callback = callback_topic(emulator, receiver, "trackses-callback-2")
    cfn = emulator.client("cloudformation", REGION)

    stack_id = generic_stack(emulator, "generic-failed", callback)
    request = next_request(emulator, receiver, "/trackses-callback-2")
    assert request["ResourceType"] == "AWS::CloudFormation::CustomResource", request
    # Scalars arrive as strings, as CloudFormation sends them.
    assert request["ResourceProperties"] == {"ServiceToken": callback, "Enabled": "true",
                                             "Count": "3", "Names": ["a", "1"]}, request
    assert answer(request, "FAILED", Reason="unknown connection token") == 200
    stack = wait_status(cfn, stack_id, "CREATE_FAILED")
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    assert any(e["ResourceStatus"] == "CREATE_FAILED"
               and "[Thing]. unknown connection token" in e["ResourceStatusReason"]
               for e in events), events
    assert stack["StackStatus"] == "CREATE_FAILED"

    stack_id = generic_stack(emulator, "generic-invalid", callback)
    request = next_request(emulator, receiver, "/trackses-callback-2")
    assert answer(request, RequestId="not-the-request") == 200  # S3 takes any body
    wait_status(cfn, stack_id, "CREATE_FAILED")
    [entry] = recorded(emulator, request["RequestId"])
    assert entry["problem"] == "Invalid response object: RequestId does not match the request"
    assert put(request["ResponseURL"].rsplit("/", 1)[0] + "/no-such-request", b"{}") == 404


def test_service_token_must_be_in_the_stack_region(emulator):
    topic = emulator.client("sns", "us-east-1").create_topic(Name="trackses-elsewhere")["TopicArn"]
    with pytest.raises(ClientError) as exc:
        generic_stack(emulator, "generic-region", topic)
    assert "Invalid service token" in exc.value.response["Error"]["Message"]


def test_answer_during_the_delivery_completes_the_stack(emulator):
    """A provider that answers before acknowledging the SNS delivery (while CreateStack is still
    running) must neither deadlock the emulator nor leave the stack in progress."""

    class Answering(BaseHTTPRequestHandler):
        def do_POST(self):
            msg = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if msg["Type"] == "SubscriptionConfirmation":
                urllib.request.urlopen(msg["SubscribeURL"], timeout=5).close()
            else:
                assert answer(json.loads(msg["Message"])) == 200
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answering)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sns = emulator.client("sns", REGION)
        callback = sns.create_topic(Name="trackses-callback-3")["TopicArn"]
        sub = sns.subscribe(TopicArn=callback, Protocol="http", ReturnSubscriptionArn=True,
                            Endpoint=f"http://127.0.0.1:{server.server_port}/")["SubscriptionArn"]
        for _ in range(50):
            attrs = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]
            if attrs["PendingConfirmation"] == "false":
                break
            time.sleep(0.1)
        started = time.monotonic()
        stack_id = generic_stack(emulator, "generic-sync", callback)
        assert time.monotonic() - started < 4  # below the 5 s SNS delivery timeout
        wait_status(emulator.client("cloudformation", REGION), stack_id, "CREATE_COMPLETE")
    finally:
        server.shutdown()
        server.server_close()


def post_request(emulator, document):
    """Act as CloudFormation with a hand-made request document: (status, JSON body)."""
    req = urllib.request.Request(
        f"{emulator.base}/_trackses/cloudformation/requests", data=json.dumps(document).encode(),
        method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_hand_made_request_is_published_and_its_answer_checked(emulator, receiver):
    """A sample no real stack can produce (a RoleArn in a third account), sent to the callback
    topic as CloudFormation would send it."""
    callback = callback_topic(emulator, receiver, "trackses-callback-4")
    sample = json.loads((SAMPLES / "foreign-role.json").read_text())
    sample["ServiceToken"] = sample["ResourceProperties"]["ServiceToken"] = callback
    url = f"{emulator.base}/_trackses/cloudformation/responses/{sample['RequestId']}"
    assert post_request(emulator, sample) == (
        200, {"ResponseURL": url, "RequestId": sample["RequestId"]})
    request = next_request(emulator, receiver, "/trackses-callback-4")
    assert request == {**sample, "ResponseURL": url}, request
    assert list(request) == list(sample)

    assert answer(request, "FAILED", Reason="the role is not in the stack's account") == 200
    [entry] = recorded(emulator, sample["RequestId"])
    assert entry["request_type"] == "Create" and entry["problem"] is None, entry
    assert entry["response"]["Status"] == "FAILED", entry

    # Refused, and nothing published: a RequestId already used, an unknown topic, a bad type.
    status, body = post_request(emulator, sample)
    assert status == 400 and "already used" in body["message"], body
    missing_topic = f"arn:aws:sns:{REGION}:{TRACKSES}:no-such-topic"
    status, body = post_request(emulator, {**sample, "RequestId": "req-2",
                                           "ServiceToken": missing_topic})
    assert status == 400 and "no SNS topic" in body["message"], body
    status, body = post_request(emulator, {**sample, "RequestId": "req-3", "RequestType": "Get"})
    assert status == 400 and "RequestType" in body["message"], body
    receiver.expect_nothing("/trackses-callback-4", wait=0.5)

    # Without a ResponseURL, the emulator's goes where CloudFormation puts it.
    delete = json.loads((SAMPLES / "delete.json").read_text())
    delete["ServiceToken"] = delete["ResourceProperties"]["ServiceToken"] = callback
    del delete["ResponseURL"]
    assert post_request(emulator, delete)[0] == 200
    request = next_request(emulator, receiver, "/trackses-callback-4")
    same_shape_as_sample(request, "delete.json")
    assert answer(request) == 200
    assert recorded(emulator, delete["RequestId"])[0]["problem"] is None


def test_a_stack_never_waits_an_hour_for_trackses():
    """CloudFormation waits up to ServiceTimeout for a custom resource's answer (default and
    maximum 3,600 s); trackses answers in seconds, so a stack whose answer never comes fails
    within minutes instead."""
    resources = yaml.load(TEMPLATE.read_text(), Loader=TemplateLoader)["Resources"]
    timeout = resources["Connection"]["Properties"]["ServiceTimeout"]
    assert isinstance(timeout, int) and 60 <= timeout <= 1800, timeout
