"""trackses' EventBridge ingest path, end to end, as AWS documents it.

trackses' account deploys cloudformation/eventbridge-ingest.yaml (a bus that admits aws.ses events
from any account, a rule queueing them); a customer account deploys
cloudformation/customer-role.yaml with Delivery=eventbridge (an SES configuration set publishing to
its default bus, rules forwarding to trackses' bus as a forwarding role). What trackses' queue
receives must be the event AWS wrote in the customer's account and region, unchanged
(EventBridge User Guide, "Sending and receiving events between AWS accounts", "... between AWS
Regions"); only AWS may emit `aws.*` sources (PutEvents: NotAuthorizedForSourceException); the SES
events carry the detail-types of the SES Developer Guide's "Monitoring SES events using Amazon
EventBridge" and the EventBridge events reference (events-ref-ses).
"""

import json
import re
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from support import Receiver
from test_customer_role import answer, next_request, wait_status

REGION = "eu-west-1"  # trackses' home region
OTHER_REGION = "eu-central-1"
TRACKSES = "111111111111"
CUSTOMER = "210987654321"
STRANGER = "333333333333"
ROOT = Path(__file__).resolve().parents[3]
INGEST = ROOT / "cloudformation" / "eventbridge-ingest.yaml"
CUSTOMER_TEMPLATE = ROOT / "cloudformation" / "customer-role.yaml"
SAMPLES = ROOT / "events" / "eventbridge"  # what trackses' queue receives, for the Rust side
EXTERNAL_ID = "trackses:org-eb/ext=1"
# An EventBridge event as a target receives it, in AWS's key order.
EVENT_KEYS = ["version", "id", "detail-type", "source", "account", "time", "region", "resources",
              "detail"]
EVENT_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
# SES event type -> EventBridge detail-type (monitoring-eventbridge.html, events-ref-ses).
MAIL_DETAIL_TYPES = {"Send": "Email Sent", "Delivery": "Email Delivered",
                     "Bounce": "Email Bounced", "Complaint": "Email Complaint Received",
                     "Reject": "Email Rejected", "Open": "Email Opened", "Click": "Email Clicked",
                     "Rendering Failure": "Email Rendering Failed",
                     "DeliveryDelay": "Email Delivery Delayed", "Subscription": "Email Subscribed"}


def shape(value):
    """Keys all the way down (a list by its first element), types of the scalars."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def same_shape_as_sample(event, sample, depth_of_detail=True):
    """The samples in events/eventbridge/ have the keys, in order, the emulator sends (email
    events: their detail's first level; the others: all of it)."""
    expected = json.loads((SAMPLES / sample).read_text())
    assert list(event) == list(expected), (list(event), sample)
    assert event["detail-type"] == expected["detail-type"], sample
    if depth_of_detail:
        assert shape(event["detail"]) == shape(expected["detail"]), sample
    else:
        assert list(event["detail"]) == list(expected["detail"]), sample


def client(emulator, service, account, region=REGION):
    """A client acting in `account` (moto's x-moto-account-id header)."""
    c = emulator.client(service, region)
    c.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.add_header(
        "x-moto-account-id", account))
    return c


def sim(local):
    return f"{local}@simulator.amazonses.com"


def post(emulator, path, body):
    req = urllib.request.Request(f"{emulator.base}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


class Queue:
    """A queue read the way ingest-eventbridge reads it: each message's body, deleted once read."""

    def __init__(self, emulator, account, url, region=REGION):
        self.sqs, self.url = client(emulator, "sqs", account, region), url

    def _receive(self):
        messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10,
                                            VisibilityTimeout=30).get("Messages", [])
        for message in messages:
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return [message["Body"] for message in messages]

    def take(self, count, timeout=5.0):
        """The next `count` bodies, parsed, each checked to be an event exactly as AWS delivers
        it (no other keys, AWS's order, the time in whole seconds)."""
        bodies, deadline = [], time.monotonic() + timeout
        while len(bodies) < count and time.monotonic() < deadline:
            got = self._receive()
            bodies += got
            if not got:
                time.sleep(0.05)
        assert len(bodies) == count, bodies
        events = [json.loads(body) for body in bodies]
        for event in events:
            assert list(event) == EVENT_KEYS, event
            assert EVENT_TIME.fullmatch(event["time"]) and event["version"] == "0", event
        return events

    def expect_nothing(self, wait=0.5):
        """Nothing more arrives. PutEvents routes before it answers; SES publishes from a
        background thread, hence the default wait."""
        time.sleep(wait)
        assert self._receive() == []


# --- trackses' side ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def ingest(emulator):
    """eventbridge-ingest.yaml deployed in trackses' account: its outputs."""
    cfn = client(emulator, "cloudformation", TRACKSES)
    stack_id = cfn.create_stack(StackName="trackses-eventbridge",
                                TemplateBody=INGEST.read_text())["StackId"]
    stack = wait_status(cfn, stack_id, "CREATE_COMPLETE")
    return {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


@pytest.fixture(scope="module")
def trackses_queue(emulator, ingest):
    return Queue(emulator, TRACKSES, ingest["QueueUrl"])


def test_the_ingest_stack_is_what_the_template_says(emulator, ingest):
    bus_arn = f"arn:aws:events:{REGION}:{TRACKSES}:event-bus/trackses-ses-events"
    assert ingest["BusArn"] == bus_arn, ingest
    events = client(emulator, "events", TRACKSES)
    policy = json.loads(events.describe_event_bus(Name="trackses-ses-events")["Policy"])
    assert policy["Statement"] == [{
        "Sid": "AnyAccountsSesEvents", "Effect": "Allow", "Principal": "*",
        "Action": "events:PutEvents", "Resource": bus_arn,
        "Condition": {"StringEquals": {"events:source": "aws.ses"}}}], policy
    [rule] = events.list_rules(EventBusName="trackses-ses-events")["Rules"]
    assert json.loads(rule["EventPattern"]) == {"source": ["aws.ses"]}, rule
    assert rule["Arn"] == (f"arn:aws:events:{REGION}:{TRACKSES}:rule/trackses-ses-events/"
                           f"{rule['Name']}"), rule
    sqs = client(emulator, "sqs", TRACKSES)
    dead_letters = {name: sqs.get_queue_attributes(
        QueueUrl=sqs.get_queue_url(QueueName=ingest[name])["QueueUrl"],
        AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for name in ("DeadLetterQueueName", "RuleDeadLetterQueueName")}
    [target] = events.list_targets_by_rule(Rule=rule["Name"],
                                           EventBusName="trackses-ses-events")["Targets"]
    assert target == {"Id": "ingest-queue", "Arn": ingest["QueueArn"],
                      "RetryPolicy": {"MaximumEventAgeInSeconds": 86400,
                                      "MaximumRetryAttempts": 185},
                      "DeadLetterConfig": {"Arn": dead_letters["RuleDeadLetterQueueName"]}}, target
    attrs = sqs.get_queue_attributes(QueueUrl=ingest["QueueUrl"],
                                     AttributeNames=["All"])["Attributes"]
    assert json.loads(attrs["RedrivePolicy"]) == {
        "deadLetterTargetArn": dead_letters["DeadLetterQueueName"], "maxReceiveCount": 5}, attrs
    assert attrs["VisibilityTimeout"] == "180", attrs
    [statement] = json.loads(attrs["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}, statement
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": rule["Arn"]}}, statement


# --- a customer account -----------------------------------------------------------------


def deploy_customer(emulator, receiver, bus_arn, region):
    """customer-role.yaml (Delivery=eventbridge) in the customer account, its custom resource
    answered by trackses: (Create request, outputs)."""
    path = f"/callback-{region}"
    sns = client(emulator, "sns", TRACKSES, region)
    callback = sns.create_topic(Name="trackses-eb-callback",
                                Attributes={"SignatureVersion": "2"})["TopicArn"]
    sns.subscribe(TopicArn=callback, Protocol="http", Endpoint=f"{receiver.url}{path}")
    sns.confirm_subscription(TopicArn=callback, Token=json.loads(receiver.get(path)[1])["Token"])
    cfn = client(emulator, "cloudformation", CUSTOMER, region)
    values = {"TrackSesAccountId": TRACKSES, "ExternalId": EXTERNAL_ID, "Delivery": "eventbridge",
              "EventBusArn": bus_arn, "WebhookUrl": f"{receiver.url}/webhook",
              "ConnectionToken": f"conn_eventbridge_{region.replace('-', '_')}",
              "CallbackTopicArn": callback}
    stack_id = cfn.create_stack(
        StackName="trackses-eventbridge", TemplateBody=CUSTOMER_TEMPLATE.read_text(),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()],
    )["StackId"]
    create = next_request(emulator, receiver, path)
    assert answer(create) == 200
    stack = wait_status(cfn, stack_id, "CREATE_COMPLETE")
    return create, {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}


class Customer:
    """A customer account's region with the stack deployed, a verified domain, and a "tap": a
    rule of its own on its default bus queueing every aws.ses event, to see them as they were
    there."""

    def __init__(self, emulator, receiver, bus_arn, region):
        self.region = region
        self.create, self.outputs = deploy_customer(emulator, receiver, bus_arn, region)
        self.config_set = self.outputs["ConfigurationSetName"]
        self.sesv2 = client(emulator, "sesv2", CUSTOMER, region)
        self.domain = f"mail-{uuid.uuid4().hex[:6]}.customer.example"
        self.sesv2.create_email_identity(EmailIdentity=self.domain)
        sqs, events = client(emulator, "sqs", CUSTOMER, region), client(emulator, "events",
                                                                        CUSTOMER, region)
        url = sqs.create_queue(QueueName="customer-tap")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url,
                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name="tap", EventPattern=json.dumps({"source": ["aws.ses"]}))
        events.put_targets(Rule="tap", Targets=[{"Id": "tap", "Arn": arn}])
        self.tap = Queue(emulator, CUSTOMER, url, region)

    def send(self, to, config_set=None):
        return self.sesv2.send_email(
            FromEmailAddress=f"Customer <hello@{self.domain}>", Destination={"ToAddresses": to},
            Content={"Simple": {"Subject": {"Data": "Hi"}, "Body": {"Text": {"Data": "Hi"}}}},
            ConfigurationSetName=config_set or self.config_set)["MessageId"]

    def set_arn(self, name=None):
        return (f"arn:aws:ses:{self.region}:{CUSTOMER}:configuration-set/"
                f"{name or self.config_set}")


@pytest.fixture(scope="module")
def customer(emulator, ingest):
    receiver = Receiver()
    try:
        yield Customer(emulator, receiver, ingest["BusArn"], REGION)
    finally:
        receiver.stop()


def test_the_customer_stack_forwards_through_the_default_bus(emulator, ingest, customer):
    """Delivery=eventbridge: the set publishes to the default bus, two rules forward to trackses'
    bus as a role only EventBridge may assume; no topic, and the custom resource says so."""
    props = customer.create["ResourceProperties"]
    assert props["Delivery"] == "eventbridge" and "TopicArn" not in props, props  # AWS::NoValue
    assert set(customer.outputs) == {"RoleArn", "ConfigurationSetName"}, customer.outputs
    [dest] = customer.sesv2.get_configuration_set_event_destinations(
        ConfigurationSetName=customer.config_set)["EventDestinations"]
    assert dest["EventBridgeDestination"] == {
        "EventBusArn": f"arn:aws:events:{REGION}:{CUSTOMER}:event-bus/default"}, dest
    assert len(dest["MatchingEventTypes"]) == 10 and dest["Enabled"] is True, dest

    events = client(emulator, "events", CUSTOMER)
    rules = {r["Name"]: r for r in events.list_rules()["Rules"] if r["Name"] != "tap"}
    patterns = sorted((json.loads(r["EventPattern"]) for r in rules.values()), key=len)
    assert patterns[0]["detail-type"] == ["Sending Status Enabled", "Sending Status Disabled",
                                          "Advisor Recommendation Status Open",
                                          "Advisor Recommendation Status Resolved"], patterns
    assert patterns[1]["detail"] == {
        "mail": {"tags": {"ses:configuration-set": [customer.config_set]}}}, patterns
    role_arns = set()
    for name in rules:
        [target] = events.list_targets_by_rule(Rule=name)["Targets"]
        assert target["Arn"] == ingest["BusArn"], target
        role_arns.add(target["RoleArn"])
    [role_arn] = role_arns
    role = client(emulator, "iam", CUSTOMER).get_role(RoleName=role_arn.rsplit("/", 1)[1])["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}, trust


def check_mail_event(event, customer, message_id, ses_type, region=REGION):
    assert event["source"] == "aws.ses" and event["detail-type"] == MAIL_DETAIL_TYPES[ses_type]
    assert (event["account"], event["region"]) == (CUSTOMER, region), event
    assert event["resources"] == [customer.set_arn()], event
    detail = event["detail"]
    assert detail["eventType"] == ses_type, detail
    assert detail["mail"]["messageId"] == message_id, detail
    assert detail["mail"]["sendingAccountId"] == CUSTOMER, detail
    assert detail["mail"]["tags"]["ses:configuration-set"] == [customer.config_set], detail


def test_mail_events_arrive_as_the_customers_account_wrote_them(emulator, customer,
                                                              trackses_queue):
    message_id = customer.send([sim("success"), sim("bounce"), sim("complaint")])
    at_customer, at_trackses = customer.tap.take(5), trackses_queue.take(5)
    for kind in ("open", "click"):  # once SES is done with the outcomes, which it publishes
        status, body = post(emulator, "/_trackses/ses/engagement",
                            {"message_id": message_id, "type": kind})
        assert status == 200 and body["published"] == 1, body
    at_customer += customer.tap.take(2)
    at_trackses += trackses_queue.take(2)
    expected = ["Send", "Delivery", "Bounce", "Delivery", "Complaint", "Open", "Click"]
    # Forwarded unchanged: the same events (ids, times, details), in the order they happened.
    assert at_trackses == at_customer
    assert [e["detail"]["eventType"] for e in at_trackses] == expected, at_trackses
    assert len({e["id"] for e in at_trackses}) == len(expected)
    for event, ses_type in zip(at_trackses, expected, strict=True):
        check_mail_event(event, customer, message_id, ses_type)
        same_shape_as_sample(event, f"{ses_type.lower()}.json", depth_of_detail=False)
    bounce = at_trackses[2]["detail"]["bounce"]
    assert bounce["bouncedRecipients"][0]["emailAddress"] == sim("bounce"), bounce
    trackses_queue.expect_nothing()


def test_another_configuration_set_of_the_account_is_not_forwarded(customer, trackses_queue):
    other = f"not-trackses-{uuid.uuid4().hex[:6]}"
    customer.sesv2.create_configuration_set(ConfigurationSetName=other)
    default_bus = f"arn:aws:events:{REGION}:{CUSTOMER}:event-bus/default"
    customer.sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=other, EventDestinationName="bus",
        EventDestination={"Enabled": True, "MatchingEventTypes": ["SEND", "DELIVERY"],
                          "EventBridgeDestination": {"EventBusArn": default_bus}})
    message_id = customer.send([sim("success")], config_set=other)
    at_customer = customer.tap.take(2)  # on the customer's bus...
    assert [e["detail"]["mail"]["messageId"] for e in at_customer] == [message_id] * 2
    assert at_customer[0]["resources"] == [customer.set_arn(other)], at_customer
    trackses_queue.expect_nothing()  # ...but not trackses' to see


def test_a_customer_in_another_region_keeps_its_region(emulator, ingest, customer,
                                                       trackses_queue):
    receiver = Receiver()
    try:
        elsewhere = Customer(emulator, receiver, ingest["BusArn"], OTHER_REGION)
    finally:
        receiver.stop()
    message_id = elsewhere.send([sim("success")])
    at_customer = elsewhere.tap.take(2)
    at_trackses = trackses_queue.take(2)
    assert at_trackses == at_customer
    for event, ses_type in zip(at_trackses, ["Send", "Delivery"], strict=True):
        check_mail_event(event, elsewhere, message_id, ses_type, region=OTHER_REGION)
    trackses_queue.expect_nothing()


def test_sending_status_changes_reach_trackses_and_pause_sending(emulator, customer,
                                                                trackses_queue):
    try:
        customer.sesv2.put_account_sending_attributes(SendingEnabled=False)
        [disabled] = trackses_queue.take(1)
        assert customer.sesv2.get_account()["SendingEnabled"] is False
        with pytest.raises(ClientError) as exc:
            customer.send([sim("success")])
        assert exc.value.response["Error"]["Code"] == "SendingPausedException"
        customer.sesv2.put_account_sending_attributes(SendingEnabled=False)  # no change, no event
        trackses_queue.expect_nothing(0)
    finally:
        customer.sesv2.put_account_sending_attributes(SendingEnabled=True)
    [enabled] = trackses_queue.take(1)
    assert customer.sesv2.get_account()["SendingEnabled"] is True
    for event, status in ((disabled, "DISABLED"), (enabled, "ENABLED")):
        assert event["detail-type"] == f"Sending Status {status.title()}", event
        assert (event["source"], event["account"], event["region"]) == (
            "aws.ses", CUSTOMER, REGION), event
        assert event["resources"] == [], event
        detail = event["detail"]
        assert detail["version"] == "1.0.0", detail
        assert detail["data"]["origin"] == "CUSTOMER_MANAGED", detail
        record = detail["data"]["record"]
        assert record["status"] == status and record["cause"], record
        assert [isinstance(n, int) for n in record["lastUpdatedTimestamp"]] == [True] * 7, record
        same_shape_as_sample(event, f"sending-status-{status.lower()}.json")
    customer.tap.take(2)
    trackses_queue.expect_nothing(0)


def test_ses_v1_pauses_the_same_account_sending(emulator):
    account, region = "666666666666", "eu-west-2"
    ses, sesv2, sqs, events = (client(emulator, service, account, region)
                               for service in ("ses", "sesv2", "sqs", "events"))
    url = sqs.create_queue(QueueName="status")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url,
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="status", EventPattern=json.dumps({"source": ["aws.ses"]}))
    events.put_targets(Rule="status", Targets=[{"Id": "q", "Arn": arn}])
    queue = Queue(emulator, account, url, region)
    ses.verify_email_identity(EmailAddress="v1@example.org")
    ses.update_account_sending_enabled(Enabled=False)
    assert ses.get_account_sending_enabled()["Enabled"] is False
    assert sesv2.get_account()["SendingEnabled"] is False
    with pytest.raises(ClientError) as exc:
        ses.send_email(Source="v1@example.org", Destination={"ToAddresses": [sim("success")]},
                       Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}})
    assert exc.value.response["Error"]["Code"] == "AccountSendingPausedException"
    ses.update_account_sending_enabled(Enabled=True)
    assert ses.get_account_sending_enabled()["Enabled"] is True
    assert [(e["detail-type"], e["account"], e["region"]) for e in queue.take(2)] == [
        ("Sending Status Disabled", account, region), ("Sending Status Enabled", account, region)]


def test_advisor_recommendations_reach_trackses(emulator, customer, trackses_queue):
    resource = f"arn:aws:ses:{REGION}:{CUSTOMER}:identity/{customer.domain}"
    sent = []
    for status in ("open", "resolved"):
        code, body = post(emulator, "/_trackses/ses/advisor", {
            "account_id": CUSTOMER, "region": REGION, "status": status, "type": "DMARC",
            "impact": "HIGH", "resource_arn": resource,
            "description": f"DMARC is not configured for {customer.domain}."})
        assert code == 200, body
        sent.append(body)
    events = trackses_queue.take(2)
    assert [e["id"] for e in events] == [s["id"] for s in sent]
    assert [e["detail-type"] for e in events] == ["Advisor Recommendation Status Open",
                                                 "Advisor Recommendation Status Resolved"]
    for event, sample in zip(events, ("advisor-open.json", "advisor-resolved.json"), strict=True):
        same_shape_as_sample(event, sample)
        assert (event["account"], event["region"], event["resources"]) == (
            CUSTOMER, REGION, [resource]), event
        assert event["detail"] == {
            "version": "1.0.0", "data": f"DMARC is not configured for {customer.domain}.",
            "metadata": {"impact": "HIGH", "type": "DMARC"}}, event
    assert post(emulator, "/_trackses/ses/advisor", {"region": REGION, "status": "closed"})[0] \
        == 400
    customer.tap.take(2)


# --- PutEvents and routing rules ----------------------------------------------------------


def test_nobody_puts_aws_sources(emulator, ingest, trackses_queue):
    """Only AWS writes `aws.*` events: PutEvents refuses them from any account, onto any bus,
    entry by entry; the rest of the batch goes through."""
    forged = {"Source": "aws.ses", "DetailType": "Email Delivered",
              "Detail": json.dumps({"eventType": "Delivery"})}
    for account, bus in ((CUSTOMER, "default"), (TRACKSES, "trackses-ses-events"),
                         (STRANGER, "default")):
        got = client(emulator, "events", account).put_events(Entries=[
            {**forged, "EventBusName": bus},
            {"Source": "custom.app", "DetailType": "Ping", "Detail": "{}", "EventBusName": bus},
        ])
        assert got["FailedEntryCount"] == 1, got
        refused, accepted = got["Entries"]
        assert refused["ErrorCode"] == "NotAuthorizedForSourceException", refused
        assert "EventId" not in refused and accepted["EventId"], got
    trackses_queue.expect_nothing(0)


def test_put_events_of_more_than_256_kb_are_refused(emulator):
    """AWS sizes an entry by the UTF-8 bytes of Source, DetailType, Detail and Resources, plus
    14 for a Time; the entries of one request may total 256 KB."""
    events = client(emulator, "events", STRANGER)
    entry = {"Source": "custom.app", "DetailType": "Big", "Resources": ["r"],
             "Time": 1767225600}  # 10 + 3 + 1 + 14 = 28 bytes
    pad = 256 * 1024 - 28 - len('{"é": ""}'.encode())  # é is 2 bytes
    fits = {**entry, "Detail": json.dumps({"é": "x" * pad}, ensure_ascii=False)}
    assert events.put_events(Entries=[fits])["FailedEntryCount"] == 0
    with pytest.raises(ClientError) as exc:  # one byte more
        events.put_events(Entries=[{**fits, "Detail": fits["Detail"].replace("x", "xx", 1)}])
    error = exc.value.response["Error"]
    assert error["Code"] == "ValidationException", error
    assert error["Message"] == "Total size of the entries in the request is over the limit."


class Stranger:
    """A third account: a queue behind a bus of its own, to test what reaches it."""

    def __init__(self, emulator, bus_name, policy_account=None, region=REGION):
        self.events = client(emulator, "events", STRANGER, region)
        self.bus_arn = self.events.create_event_bus(Name=bus_name)["EventBusArn"]
        if policy_account:
            self.events.put_permission(EventBusName=bus_name, Action="events:PutEvents",
                                       Principal=policy_account, StatementId="sender")
        sqs = client(emulator, "sqs", STRANGER, region)
        url = sqs.create_queue(QueueName=f"{bus_name}-queue")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url,
                                       AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.events.put_rule(Name="all", EventBusName=bus_name,
                             EventPattern=json.dumps({"source": [{"prefix": ""}]}))
        self.events.put_targets(Rule="all", EventBusName=bus_name,
                                Targets=[{"Id": "q", "Arn": arn}])
        self.queue = Queue(emulator, STRANGER, url, region)


def forwarding_role(emulator, name, bus_arns, service="events.amazonaws.com", account=CUSTOMER):
    iam = client(emulator, "iam", account)
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName="forward", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "events:PutEvents",
                                               "Resource": bus_arns}]}))
    return arn


def test_buses_and_roles_decide_what_is_forwarded(emulator):
    """To another account's bus: only if its policy admits the sender's account, and only as a
    role that trusts EventBridge and may put events on that bus (or, in the same Region, without
    a role); never on from there."""
    granted = Stranger(emulator, "granted", policy_account=CUSTOMER)
    closed = Stranger(emulator, "closed", policy_account="444444444444")
    elsewhere = Stranger(emulator, "elsewhere", policy_account=CUSTOMER, region=OTHER_REGION)
    role = forwarding_role(emulator, "forward-ok", [granted.bus_arn, closed.bus_arn,
                                                    elsewhere.bus_arn])
    untrusting = forwarding_role(emulator, "forward-lambda", [granted.bus_arn],
                                 service="lambda.amazonaws.com")
    narrow = forwarding_role(emulator, "forward-narrow", [closed.bus_arn])
    events = client(emulator, "events", CUSTOMER)
    bus = events.create_event_bus(Name="forwarding")["EventBusArn"]
    cases = {  # rule -> (target, delivered to)
        "granted": ({"Arn": granted.bus_arn, "RoleArn": role}, granted),
        "granted-no-role": ({"Arn": granted.bus_arn}, granted),
        "closed": ({"Arn": closed.bus_arn, "RoleArn": role}, None),
        "untrusting-role": ({"Arn": granted.bus_arn, "RoleArn": untrusting}, None),
        "narrow-role": ({"Arn": granted.bus_arn, "RoleArn": narrow}, None),
        "missing-role": ({"Arn": granted.bus_arn,
                          "RoleArn": f"arn:aws:iam::{CUSTOMER}:role/nope"}, None),
        "other-region": ({"Arn": elsewhere.bus_arn, "RoleArn": role}, elsewhere),
        "other-region-no-role": ({"Arn": elsewhere.bus_arn}, None),
    }
    for name, (target, _) in cases.items():
        events.put_rule(Name=name, EventBusName="forwarding",
                        EventPattern=json.dumps({"detail-type": [name]}))
        events.put_targets(Rule=name, EventBusName="forwarding",
                           Targets=[{"Id": "t", **target}])
    for name, (_, delivered_to) in cases.items():
        got = events.put_events(Entries=[{"Source": "custom.sender", "DetailType": name,
                                          "Detail": json.dumps({"case": name}),
                                          "EventBusName": bus}])
        [entry] = got["Entries"]
        for stranger in (granted, closed, elsewhere):
            if stranger is delivered_to:
                [event] = stranger.queue.take(1)
                assert event["id"] == entry["EventId"], (name, event)
                assert (event["account"], event["region"]) == (CUSTOMER, REGION), event
                assert event["detail"] == {"case": name}, event
            else:
                stranger.queue.expect_nothing(0)

    # Events that came from another account are not forwarded again.
    onward = Stranger(emulator, "onward")
    strangers = client(emulator, "events", STRANGER)
    strangers.put_rule(Name="onward", EventBusName="granted",
                       EventPattern=json.dumps({"source": ["custom.sender"]}))
    onward_role = forwarding_role(emulator, "onward", [onward.bus_arn], account=STRANGER)
    strangers.put_targets(Rule="onward", EventBusName="granted",
                          Targets=[{"Id": "on", "Arn": onward.bus_arn, "RoleArn": onward_role}])
    events.put_events(Entries=[{"Source": "custom.sender", "DetailType": "granted",
                                "Detail": "{}", "EventBusName": bus}])
    granted.queue.take(1)
    onward.queue.expect_nothing(0)
    strangers.put_events(Entries=[{"Source": "custom.sender", "DetailType": "own",
                                   "Detail": "{}", "EventBusName": "granted"}])
    granted.queue.take(1)
    assert onward.queue.take(1)[0]["account"] == STRANGER  # its own events do go on


def test_the_queue_policy_admits_only_its_rule(emulator, ingest, trackses_queue):
    events = client(emulator, "events", TRACKSES)
    events.put_rule(Name="intruder", EventBusName="trackses-ses-events",
                    EventPattern=json.dumps({"source": ["custom.intruder"]}))
    events.put_targets(Rule="intruder", EventBusName="trackses-ses-events",
                       Targets=[{"Id": "q", "Arn": ingest["QueueArn"]}])
    got = events.put_events(Entries=[{"Source": "custom.intruder", "DetailType": "x",
                                      "Detail": "{}", "EventBusName": "trackses-ses-events"}])
    assert got["FailedEntryCount"] == 0, got
    trackses_queue.expect_nothing(0)


def test_patterns_rules_and_the_delivered_json(emulator):
    """`$or`, nested keys with ':' and '-', disabled rules; the body is the event as AWS writes
    it, with its Time."""
    account = "555555555555"
    events, sqs = client(emulator, "events", account), client(emulator, "sqs", account)
    url = sqs.create_queue(QueueName="patterns")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url,
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue = Queue(emulator, account, url)
    pattern = {"source": ["custom.ses"], "$or": [
        {"detail-type": ["Email Sent"]},
        {"detail": {"mail": {"tags": {"ses:configuration-set": ["trackses-1"]}}}}]}
    events.put_rule(Name="or", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="or", Targets=[{"Id": "q", "Arn": arn}])
    events.put_rule(Name="off", EventPattern=json.dumps({"source": ["custom.ses"]}),
                    State="DISABLED")
    events.put_targets(Rule="off", Targets=[{"Id": "q", "Arn": arn}])

    def put(detail_type, config_set):
        detail = {"mail": {"tags": {"ses:configuration-set": [config_set]}}}
        return events.put_events(Entries=[{
            "Source": "custom.ses", "DetailType": detail_type, "Detail": json.dumps(detail),
            "Resources": ["arn:aws:ses:eu-west-1:555555555555:configuration-set/x"],
            "Time": 1767225600}])["Entries"][0]["EventId"]

    matching = [put("Email Sent", "other"), put("Email Delivered", "trackses-1")]
    put("Email Delivered", "trackses-2")
    delivered = queue.take(2)
    queue.expect_nothing(0)
    assert [e["id"] for e in delivered] == matching
    assert delivered[1] == {
        "version": "0", "id": matching[1], "detail-type": "Email Delivered",
        "source": "custom.ses", "account": account, "time": "2026-01-01T00:00:00Z",
        "region": REGION, "resources": ["arn:aws:ses:eu-west-1:555555555555:configuration-set/x"],
        "detail": {"mail": {"tags": {"ses:configuration-set": ["trackses-1"]}}}}


def test_the_samples_are_deliveries_from_one_customer():
    """events/eventbridge/: one file per SES email event type and account signal, as the queue
    gets them from customer 210987654321 in eu-west-1 (shapes checked against the emulator's
    deliveries above)."""
    config_set = "trackses-6f1d3c2e-8b7a-4c5d-9e0f-1a2b3c4d5e6f"
    mail = {"send": "Send", "delivery": "Delivery", "bounce": "Bounce",
            "complaint": "Complaint", "reject": "Reject", "open": "Open", "click": "Click",
            "rendering-failure": "Rendering Failure", "delivery-delay": "DeliveryDelay",
            "subscription": "Subscription"}
    signals = {"sending-status-disabled": "Sending Status Disabled",
               "sending-status-enabled": "Sending Status Enabled",
               "advisor-open": "Advisor Recommendation Status Open",
               "advisor-resolved": "Advisor Recommendation Status Resolved"}
    samples = {p.stem: json.loads(p.read_text()) for p in SAMPLES.glob("*.json")}
    assert set(samples) == set(mail) | set(signals), sorted(samples)
    assert len({e["id"] for e in samples.values()}) == len(samples)
    for name, event in samples.items():
        assert list(event) == EVENT_KEYS and EVENT_TIME.fullmatch(event["time"]), name
        assert (event["version"], event["source"], event["account"], event["region"]) == (
            "0", "aws.ses", CUSTOMER, REGION), name
        if name in signals:
            assert event["detail-type"] == signals[name], name
            continue
        detail = event["detail"]
        assert detail["eventType"] == mail[name], name
        assert event["detail-type"] == MAIL_DETAIL_TYPES[mail[name]], name
        assert event["resources"] == [
            f"arn:aws:ses:{REGION}:{CUSTOMER}:configuration-set/{config_set}"], name
        assert detail["mail"]["sendingAccountId"] == CUSTOMER, name
        assert detail["mail"]["tags"]["ses:configuration-set"] == [config_set], name
