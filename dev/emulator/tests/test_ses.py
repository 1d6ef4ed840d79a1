"""SES event publishing as AWS documents it
(https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html):
SESv2 event destinations and account state, the mailbox simulator's outcomes published to SNS
(signed, Subject "Amazon SES Email Event Notification"), opens/clicks via the emulator endpoint."""

import json
import re
import urllib.error
import urllib.request
import uuid
from urllib.parse import quote

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from cryptography import x509

from support import check_headers, verify

REGION = "eu-central-1"
SUBJECT = "Amazon SES Email Event Notification"
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
ALL_TYPES = ["SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "OPEN", "CLICK",
             "RENDERING_FAILURE", "DELIVERY_DELAY"]


def sim(local):
    return f"{local}@simulator.amazonses.com"


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def post(emulator, path, body):
    """Unsigned JSON POST to an emulator-only endpoint -> (status, JSON body)."""
    req = urllib.request.Request(f"{emulator.base}{path}", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def error_code(call, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    return e.value.response["Error"]["Code"]


class Setup:
    """A topic per receiver path, subscribed and confirmed like a real subscriber would."""

    def __init__(self, emulator, receiver, region=REGION):
        self.emulator, self.recv = emulator, receiver
        self.sns = emulator.client("sns", region)
        self.sesv2 = emulator.client("sesv2", region)
        cert_path = next(emulator.cert_dir.iterdir())
        self.cert_name = cert_path.name
        self.cert = x509.load_pem_x509_certificate(cert_path.read_bytes())

    def topic(self, path):
        arn = self.sns.create_topic(Name=unique("ses-events"))["TopicArn"]
        self.sns.subscribe(TopicArn=arn, Protocol="http", Endpoint=f"{self.recv.url}{path}")
        conf = json.loads(self.recv.get(path)[1])
        with urllib.request.urlopen(conf["SubscribeURL"]) as r:
            assert r.status == 200
        return arn

    def config_set(self, **destinations):
        """A configuration set with one SNS event destination per name=(topic, types, enabled)."""
        name = unique("set")
        self.sesv2.create_configuration_set(ConfigurationSetName=name)
        for dest, (topic, types, enabled) in destinations.items():
            self.sesv2.create_configuration_set_event_destination(
                ConfigurationSetName=name, EventDestinationName=dest,
                EventDestination={"Enabled": enabled, "MatchingEventTypes": types,
                                  "SnsDestination": {"TopicArn": topic}})
        return name

    def identity(self):
        domain = f"{unique('mail')}.example.com"
        self.sesv2.create_email_identity(EmailIdentity=domain)
        return domain

    def send(self, domain, to, config_set=None, tags=()):
        kwargs = {"ConfigurationSetName": config_set} if config_set else {}
        return self.sesv2.send_email(
            FromEmailAddress=f"Trackses Test <hello@{domain}>",
            Destination={"ToAddresses": to},
            Content={"Simple": {"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": "Hi"}}}},
            EmailTags=[{"Name": k, "Value": v} for k, v in tags], **kwargs,
        )["MessageId"]

    def events(self, path, count):
        """The next `count` notifications on `path`, signature-checked, as SES event dicts."""
        events = []
        for _ in range(count):
            headers, body = self.recv.get(path)
            msg = json.loads(body)
            assert msg["Type"] == "Notification" and msg["Subject"] == SUBJECT, msg
            check_headers(headers, msg, None)
            verify(msg, self.cert, self.cert_name, "1")
            events.append(json.loads(msg["Message"]))
        return events


def by_message(events):
    grouped = {}
    for event in events:
        grouped.setdefault(event["mail"]["messageId"], []).append(event)
    return grouped


def check_mail(event, message_id, domain, config_set, destination, tags=None):
    mail = event["mail"]
    account = mail["sendingAccountId"]
    assert re.fullmatch(r"\d{12}", account), mail
    assert TS.fullmatch(mail["timestamp"]), mail
    assert mail["messageId"] == message_id
    assert mail["source"] == f"hello@{domain}"
    assert mail["sourceArn"] == f"arn:aws:ses:{REGION}:{account}:identity/{domain}"
    assert mail["destination"] == destination
    assert mail["headersTruncated"] is False
    names = [h["name"] for h in mail["headers"]]
    assert {"From", "To", "Subject", "Message-ID", "Date"} <= set(names), names
    common = mail["commonHeaders"]
    assert common["from"] == [f"Trackses Test <hello@{domain}>"], common
    assert common["to"] == destination and common["subject"] == "Hello", common
    assert common["messageId"] == message_id, common
    t = mail["tags"]
    assert t["ses:configuration-set"] == [config_set], t
    assert t["ses:operation"] == ["SendEmail"], t
    assert t["ses:from-domain"] == [domain], t
    assert t["ses:source-ip"] and t["ses:caller-identity"], t
    for key, value in (tags or {}).items():
        assert t[key] == [value], t


def test_events_for_simulator_recipients_via_identity_default_and_explicit_set(emulator, receiver):
    s = Setup(emulator, receiver)
    topic = s.topic("/all")
    config_set = s.config_set(everything=(topic, ALL_TYPES, True))
    domain = s.identity()
    s.sesv2.put_email_identity_configuration_set_attributes(
        EmailIdentity=domain, ConfigurationSetName=config_set)
    assert s.sesv2.get_email_identity(EmailIdentity=domain)["ConfigurationSetName"] == config_set

    tags = {"campaign": "welcome"}
    sent = {  # message id -> (recipient, expected event types in order)
        s.send(domain, [sim("success")], tags=tags.items()): ("success", ["Send", "Delivery"]),
        s.send(domain, [sim("bounce")], tags=tags.items()): ("bounce", ["Send", "Bounce"]),
        s.send(domain, [sim("complaint")], tags=tags.items()):
            ("complaint", ["Send", "Delivery", "Complaint"]),
        s.send(domain, [sim("success")], config_set=config_set, tags=tags.items()):
            ("success", ["Send", "Delivery"]),
    }
    grouped = by_message(s.events("/all", 9))
    receiver.expect_nothing("/all", wait=0.5)
    assert set(grouped) == set(sent)
    for message_id, (local, expected) in sent.items():
        events = grouped[message_id]
        assert [e["eventType"] for e in events] == expected, events
        for event in events:
            check_mail(event, message_id, domain, config_set, [sim(local)], tags)
        assert events[0]["send"] == {}
        for event in events[1:]:
            detail = event[event["eventType"].lower()]
            assert TS.fullmatch(detail["timestamp"]), detail
        if "Delivery" in expected:
            delivery = events[1]["delivery"]
            assert delivery["recipients"] == [sim(local)], delivery
            assert delivery["smtpResponse"].startswith("250 ") and delivery["reportingMTA"]
            assert isinstance(delivery["processingTimeMillis"], int), delivery
            assert delivery["remoteMtaIp"], delivery
        if local == "bounce":
            bounce = events[1]["bounce"]
            assert (bounce["bounceType"], bounce["bounceSubType"]) == ("Permanent", "General")
            assert bounce["feedbackId"] and bounce["reportingMTA"], bounce
            assert bounce["bouncedRecipients"] == [{
                "emailAddress": sim("bounce"), "action": "failed", "status": "5.1.1",
                "diagnosticCode": "smtp; 550 5.1.1 user unknown"}], bounce
        if local == "complaint":
            complaint = events[2]["complaint"]
            assert complaint["complainedRecipients"] == [{"emailAddress": sim("complaint")}]
            assert complaint["complaintFeedbackType"] == "abuse", complaint
            assert complaint["feedbackId"] and complaint["userAgent"], complaint
            assert TS.fullmatch(complaint["arrivalDate"]), complaint
            assert "complaintSubType" in complaint, complaint

    # Clearing the identity's default: sends without a set publish nothing.
    s.sesv2.put_email_identity_configuration_set_attributes(EmailIdentity=domain)
    assert not s.sesv2.get_email_identity(EmailIdentity=domain).get("ConfigurationSetName")
    s.send(domain, [sim("success")])
    receiver.expect_nothing("/all", wait=1.0)


def test_one_send_event_per_message_and_ooto_suppressionlist(emulator, receiver):
    s = Setup(emulator, receiver)
    topic = s.topic("/sim")
    config_set = s.config_set(d=(topic, ["SEND", "DELIVERY", "BOUNCE"], True))
    domain = s.identity()
    to = [sim("ooto"), sim("suppressionlist")]
    message_id = s.send(domain, to, config_set=config_set)
    events = s.events("/sim", 3)
    receiver.expect_nothing("/sim", wait=0.5)
    assert [e["eventType"] for e in events] == ["Send", "Delivery", "Bounce"], events
    for event in events:
        check_mail(event, message_id, domain, config_set, to)
    assert events[1]["delivery"]["recipients"] == [sim("ooto")]
    bounce = events[2]["bounce"]
    assert (bounce["bounceType"], bounce["bounceSubType"]) == (
        "Permanent", "OnAccountSuppressionList"), bounce
    assert [r["emailAddress"] for r in bounce["bouncedRecipients"]] == [sim("suppressionlist")]


def test_matching_event_types_and_enabled_filter(emulator, receiver):
    s = Setup(emulator, receiver)
    bounces, sends, disabled = s.topic("/bounces"), s.topic("/sends"), s.topic("/disabled")
    config_set = s.config_set(b=(bounces, ["BOUNCE"], True), s=(sends, ["SEND"], True),
                              off=(disabled, ALL_TYPES, False))
    domain = s.identity()
    to = [sim("success"), sim("bounce"), sim("complaint")]
    message_id = s.send(domain, to, config_set=config_set)

    [bounce] = s.events("/bounces", 1)
    assert bounce["eventType"] == "Bounce" and bounce["mail"]["messageId"] == message_id
    assert [r["emailAddress"] for r in bounce["bounce"]["bouncedRecipients"]] == [sim("bounce")]
    [send] = s.events("/sends", 1)
    assert send["eventType"] == "Send" and send["mail"]["destination"] == to, send
    for path in ("/bounces", "/sends", "/disabled"):
        receiver.expect_nothing(path, wait=0.5)


def test_event_destination_crud_and_configuration_set_shape(emulator, receiver):
    s = Setup(emulator, receiver)
    topic = s.sns.create_topic(Name=unique("crud"))["TopicArn"]
    name = s.config_set()
    assert s.sesv2.get_configuration_set_event_destinations(
        ConfigurationSetName=name)["EventDestinations"] == []
    definition = {"Enabled": True, "MatchingEventTypes": ["SEND", "BOUNCE"],
                  "SnsDestination": {"TopicArn": topic}}
    s.sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="sns", EventDestination=definition)
    got = s.sesv2.get_configuration_set_event_destinations(ConfigurationSetName=name)
    assert got["EventDestinations"] == [{"Name": "sns", **definition}], got

    assert error_code(s.sesv2.create_configuration_set_event_destination,
                      ConfigurationSetName=name, EventDestinationName="sns",
                      EventDestination=definition) == "AlreadyExistsException"
    assert error_code(s.sesv2.create_configuration_set_event_destination,
                      ConfigurationSetName=unique("missing"), EventDestinationName="x",
                      EventDestination=definition) == "NotFoundException"

    updated = {"Enabled": False, "MatchingEventTypes": ["DELIVERY"],
               "SnsDestination": {"TopicArn": topic}}
    s.sesv2.update_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="sns", EventDestination=updated)
    got = s.sesv2.get_configuration_set_event_destinations(ConfigurationSetName=name)
    assert got["EventDestinations"] == [{"Name": "sns", **updated}], got
    assert error_code(s.sesv2.update_configuration_set_event_destination,
                      ConfigurationSetName=name, EventDestinationName="nope",
                      EventDestination=updated) == "NotFoundException"

    s.sesv2.delete_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="sns")
    assert s.sesv2.get_configuration_set_event_destinations(
        ConfigurationSetName=name)["EventDestinations"] == []
    assert error_code(s.sesv2.delete_configuration_set_event_destination,
                      ConfigurationSetName=name, EventDestinationName="sns") == "NotFoundException"

    # GetConfigurationSet: SendingOptions.SendingEnabled is a JSON boolean (the Rust SDK's
    # parser rejects anything else), checked on the raw response body.
    raw = {}
    s.sesv2.meta.events.register(
        "after-call.sesv2.GetConfigurationSet",
        lambda http_response, **_: raw.update(json.loads(http_response.content)))
    paused = unique("paused")
    s.sesv2.create_configuration_set(ConfigurationSetName=paused,
                                     SendingOptions={"SendingEnabled": False})
    for set_name, enabled in ((name, True), (paused, False)):
        parsed = s.sesv2.get_configuration_set(ConfigurationSetName=set_name)
        assert raw["SendingOptions"] == {"SendingEnabled": enabled}, raw
        assert parsed["SendingOptions"]["SendingEnabled"] is enabled, parsed
    domain = s.identity()
    assert error_code(s.send, domain, [sim("success")], config_set=paused) == \
        "SendingPausedException"
    assert error_code(s.send, domain, [sim("success")], config_set=unique("missing")) == \
        "NotFoundException"
    assert error_code(s.sesv2.put_email_identity_configuration_set_attributes,
                      EmailIdentity=domain, ConfigurationSetName=unique("missing")) == \
        "NotFoundException"


def test_get_account_sandbox_then_production(emulator):
    region = "eu-west-3"  # an account/region no other test sends from
    sesv2 = emulator.client("sesv2", region)
    account = emulator.client("sts", region).get_caller_identity()["Account"]
    got = sesv2.get_account()
    assert got["ProductionAccessEnabled"] is False and got["SendingEnabled"] is True, got
    assert got["SendQuota"] == {"Max24HourSend": 200.0, "MaxSendRate": 1.0,
                                "SentLast24Hours": 0.0}, got

    ses = emulator.client("ses", region)
    ses.verify_email_identity(EmailAddress="sender@example.org")
    ses.send_email(Source="sender@example.org", Destination={"ToAddresses": [sim("success")]},
                   Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}})
    assert sesv2.get_account()["SendQuota"]["SentLast24Hours"] == 1.0

    status, body = post(emulator, "/_trackses/ses/account",
                        {"account_id": account, "region": region, "production": True})
    assert status == 200 and body["ProductionAccessEnabled"] is True, body
    got = sesv2.get_account()
    assert got["ProductionAccessEnabled"] is True, got
    assert got["SendQuota"] == {"Max24HourSend": 50000.0, "MaxSendRate": 14.0,
                                "SentLast24Hours": 1.0}, got
    assert ses.get_send_quota()["Max24HourSend"] == 50000.0

    post(emulator, "/_trackses/ses/account", {"account_id": account, "region": region})
    assert sesv2.get_account()["ProductionAccessEnabled"] is False
    assert post(emulator, "/_trackses/ses/account", {"production": True})[0] == 400


def test_open_and_click_via_emulator_endpoint_and_v1_sends(emulator, receiver):
    s = Setup(emulator, receiver)
    topic = s.topic("/engagement")
    config_set = s.config_set(d=(topic, ["SEND", "OPEN", "CLICK"], True))
    ses = emulator.client("ses", REGION)
    ses.verify_email_identity(EmailAddress="v1@example.net")
    message_id = ses.send_email(
        Source="v1@example.net", Destination={"ToAddresses": ["reader@example.com"]},
        Message={"Subject": {"Data": "News"}, "Body": {"Html": {"Data": "<a href='x'>x</a>"}}},
        ConfigurationSetName=config_set, Tags=[{"Name": "campaign", "Value": "news"}],
    )["MessageId"]
    [send] = s.events("/engagement", 1)
    assert send["eventType"] == "Send" and send["mail"]["messageId"] == message_id, send
    assert send["mail"]["tags"]["ses:operation"] == ["SendEmail"], send
    assert send["mail"]["tags"]["campaign"] == ["news"], send

    status, body = post(emulator, "/_trackses/ses/engagement",
                        {"message_id": message_id, "type": "open"})
    assert status == 200 and body["published"] == 1, body
    [opened] = s.events("/engagement", 1)
    assert opened["eventType"] == "Open" and opened["mail"]["messageId"] == message_id
    assert TS.fullmatch(opened["open"]["timestamp"]), opened
    assert opened["open"]["userAgent"] and opened["open"]["ipAddress"], opened

    link = "https://app.example.com/reset?token=1"
    status, _ = post(emulator, "/_trackses/ses/engagement", {
        "message_id": message_id, "type": "click", "link": link,
        "link_tags": {"link-name": ["reset-button"]}})
    assert status == 200
    [click] = s.events("/engagement", 1)
    assert click["eventType"] == "Click" and click["mail"]["messageId"] == message_id
    detail = click["click"]
    assert detail["link"] == link and detail["linkTags"] == {"link-name": ["reset-button"]}
    assert TS.fullmatch(detail["timestamp"]) and detail["ipAddress"] and detail["userAgent"]

    assert post(emulator, "/_trackses/ses/engagement",
                {"message_id": "nope", "type": "open"})[0] == 404
    assert post(emulator, "/_trackses/ses/engagement",
                {"message_id": message_id, "type": "forward"})[0] == 400

    raw = (b"From: Raw Sender <v1@example.net>\r\nTo: reader@example.com\r\n"
           b"Subject: Raw hello\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nbody\r\n")
    raw_id = ses.send_raw_email(RawMessage={"Data": raw},
                                ConfigurationSetName=config_set)["MessageId"]
    [send] = s.events("/engagement", 1)
    mail = send["mail"]
    assert mail["messageId"] == raw_id and mail["tags"]["ses:operation"] == ["SendRawEmail"]
    assert mail["commonHeaders"]["subject"] == "Raw hello", mail
    assert mail["destination"] == ["reader@example.com"], mail
    receiver.expect_nothing("/engagement", wait=0.5)


def test_later_events_in_aws_shapes_each_only_to_destinations_matching_its_type(emulator, receiver):
    """AWS's "Examples of event data that Amazon SES publishes to Amazon SNS": Reject
    (`reject.reason`), Rendering Failure (`failure.errorMessage`/`templateName`), DeliveryDelay
    (`deliveryDelay` with `delayType`, `expirationTime`, one `delayedRecipients` entry per
    recipient) and Subscription (`subscription` with `contactList`, `source`, new and old topic
    preferences)."""
    s = Setup(emulator, receiver)
    topic = s.topic("/later")
    kinds = {"reject": ("REJECT", "Reject", "reject"),
             "renderingFailure": ("RENDERING_FAILURE", "Rendering Failure", "failure"),
             "deliveryDelay": ("DELIVERY_DELAY", "DeliveryDelay", "deliveryDelay"),
             "subscription": ("SUBSCRIPTION", "Subscription", "subscription")}
    config_set = s.config_set(d=(topic, [m for m, _, _ in kinds.values()], True))
    ses = emulator.client("ses", REGION)
    ses.verify_email_identity(EmailAddress="later@example.net")
    message_id = ses.send_email(
        Source="later@example.net", Destination={"ToAddresses": ["a@example.com", "b@example.com"]},
        Message={"Subject": {"Data": "Later"}, "Body": {"Text": {"Data": "x"}}},
        ConfigurationSetName=config_set,
    )["MessageId"]
    for kind, (_, event_type, key) in kinds.items():
        status, body = post(emulator, "/_trackses/ses/engagement",
                            {"message_id": message_id, "type": kind})
        assert status == 200 and body == {"eventType": event_type, "published": 1}, body
        [event] = s.events("/later", 1)
        assert event["eventType"] == event_type and event["mail"]["messageId"] == message_id
        detail = event[key]
        if kind == "reject":
            assert detail == {"reason": "Bad content"}
        elif kind == "renderingFailure":
            assert detail["errorMessage"] and detail["templateName"], detail
        elif kind == "deliveryDelay":
            assert detail["delayType"] == "TransientCommunicationFailure", detail
            assert TS.fullmatch(detail["timestamp"]) and TS.fullmatch(detail["expirationTime"])
            assert [r["emailAddress"] for r in detail["delayedRecipients"]] == [
                "a@example.com", "b@example.com"], detail
        else:
            assert detail["source"] == "UnsubscribeHeader" and detail["contactList"], detail
            assert detail["newTopicPreferences"]["unsubscribeAll"] is True, detail
    # Open is not among the destination's types: nothing is published.
    status, body = post(emulator, "/_trackses/ses/engagement",
                        {"message_id": message_id, "type": "open"})
    assert status == 200 and body["published"] == 0, body
    receiver.expect_nothing("/later", wait=0.5)


def signed_get(emulator, service, region, path):
    """A GET as current SDKs send it (boto3's model lists with POST) -> (status, JSON body)."""
    request = AWSRequest(method="GET", url=f"{emulator.base}{path}")
    SigV4Auth(Credentials("testing", "testing"), service, region).add_auth(request)
    try:
        signed = urllib.request.Request(request.url, headers=dict(request.headers))
        with urllib.request.urlopen(signed) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_identities_page_and_a_foreign_next_token_is_a_bad_request(emulator):
    region = "eu-north-1"
    ses = emulator.client("sesv2", region)
    names = {f"page{i:03d}@{unique('paged')}.example" for i in range(5)}
    for name in names:
        ses.create_email_identity(EmailIdentity=name)
    seen, token = [], None
    while True:
        query = f"PageSize=2&NextToken={quote(token, safe='')}" if token else "PageSize=2"
        status, page = signed_get(emulator, "ses", region, f"/v2/email/identities?{query}")
        assert status == 200, page
        assert len(page["EmailIdentities"]) <= 2
        seen += [i["IdentityName"] for i in page["EmailIdentities"]]
        token = page.get("NextToken")
        if not token:
            break
    assert names <= set(seen) and len(seen) == len(set(seen))
    status, refused = signed_get(emulator, "ses", region, "/v2/email/identities?NextToken=nope")
    assert status == 400 and refused["__type"] == "BadRequestException", refused
    assert error_code(ses.list_email_identities, NextToken="not-a-token") == "BadRequestException"


def test_eventbridge_destinations_name_the_accounts_default_bus(emulator):
    """SES publishes only to the default bus ("Only the default bus is supported"), the sending
    account's in the set's region: any other EventBusArn is a BadRequestException."""
    sesv2 = emulator.client("sesv2", REGION)
    account = emulator.client("sts", REGION).get_caller_identity()["Account"]
    name = unique("bus-set")
    sesv2.create_configuration_set(ConfigurationSetName=name)

    def definition(bus_arn):
        return {"Enabled": True, "MatchingEventTypes": ["SEND"],
                "EventBridgeDestination": {"EventBusArn": bus_arn}}

    for bus in (f"arn:aws:events:{REGION}:{account}:event-bus/trackses-ses-events",
                f"arn:aws:events:{REGION}:210987654321:event-bus/default",
                f"arn:aws:events:eu-west-1:{account}:event-bus/default", "default"):
        assert error_code(sesv2.create_configuration_set_event_destination,
                          ConfigurationSetName=name, EventDestinationName="bus",
                          EventDestination=definition(bus)) == "BadRequestException", bus
    default = f"arn:aws:events:{REGION}:{account}:event-bus/default"
    sesv2.create_configuration_set_event_destination(
        ConfigurationSetName=name, EventDestinationName="bus",
        EventDestination=definition(default))
    assert error_code(sesv2.update_configuration_set_event_destination,
                      ConfigurationSetName=name, EventDestinationName="bus",
                      EventDestination=definition(default.replace("default", "other"))) == \
        "BadRequestException"
    got = sesv2.get_configuration_set_event_destinations(ConfigurationSetName=name)
    assert got["EventDestinations"] == [{"Name": "bus", **definition(default)}], got
