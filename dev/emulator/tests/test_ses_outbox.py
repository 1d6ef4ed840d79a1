"""GET /_trackses/ses/outbox: what SES accepted from one account and region, for tests that
read the mail a service sent (trackses' alert mail goes out through its own SES account).

AWS behaviour the outbox follows: SES accepts a send only from a verified identity (the address
or its domain, else MessageRejected), and what it accepted is every recipient of the message:
To, Cc and Bcc (simple content), or the raw message's Destinations and headers (raw content)."""

import base64
import json
import re
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlencode

import pytest
from botocore.exceptions import ClientError

TRACKSES = "123456789012"  # trackses' own account: the default credentials
OTHER = "444455556666"  # another account, reached through its OrganizationAccountAccessRole
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def outbox(emulator, method="GET", **query):
    """Unsigned request to the outbox -> (status, JSON body)."""
    req = urllib.request.Request(f"{emulator.base}/_trackses/ses/outbox?{urlencode(query)}",
                                 method=method)
    try:
        with urllib.request.urlopen(req) as r:
            assert r.headers["Content-Type"] == "application/json", dict(r.headers)
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def messages(emulator, account, region):
    status, body = outbox(emulator, account=account, region=region)
    assert status == 200 and set(body) == {"messages"}, body
    return body["messages"]


def sent(message_id, source, destinations, subject, text, html):
    """An outbox entry without its send time (checked on its own)."""
    return {"message_id": message_id, "source": source, "destinations": destinations,
            "subject": subject, "text": text, "html": html}


def without_time(entries):
    for entry in entries:
        assert TS.fullmatch(entry["sent_at"]), entry
    return [{k: v for k, v in entry.items() if k != "sent_at"} for entry in entries]


def error_code(call, **kwargs):
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    return e.value.response["Error"]["Code"]


def other_account(emulator, service, region):
    """A client acting in OTHER (its implicit OrganizationAccountAccessRole is unrestricted)."""
    creds = emulator.client("sts", region).assume_role(
        RoleArn=f"arn:aws:iam::{OTHER}:role/OrganizationAccountAccessRole",
        RoleSessionName="outbox")["Credentials"]
    return emulator.client(service, region, creds["AccessKeyId"], creds["SecretAccessKey"],
                           creds["SessionToken"])


def b64(text):
    return base64.b64encode(text.encode()).decode()


# multipart/mixed: alternative text (quoted-printable) and HTML (base64) bodies, an encoded-word
# subject, and a text attachment that is not the message's text.
MIXED = """From: Trackses Alerts <alerts@{domain}>
To: Ops <ops@example.com>
Cc: cc@example.com
Subject: =?utf-8?b?{subject}?=
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mixed"

--mixed
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

St=C3=B6rung: 3 bounces
--alt
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

{html}
--alt--

--mixed
Content-Type: text/plain; name="report.txt"
Content-Disposition: attachment; filename="report.txt"

not the body
--mixed--
"""


def crlf(text):
    return text.replace("\n", "\r\n").encode()


def test_every_accepted_send_oldest_first_with_subject_text_and_html(emulator):
    region = "ap-southeast-2"  # no other test sends here: the outbox holds exactly these
    sesv2, ses = emulator.client("sesv2", region), emulator.client("ses", region)
    domain = f"{unique('alerts')}.example"
    sesv2.create_email_identity(EmailIdentity=domain)
    config_set = unique("set")  # a send through a configuration set is listed too
    sesv2.create_configuration_set(ConfigurationSetName=config_set)

    v2_simple = sesv2.send_email(
        FromEmailAddress=f"Trackses Alerts <alerts@{domain}>",
        Destination={"ToAddresses": ["Ops <ops@example.com>"], "CcAddresses": ["cc@example.com"],
                     "BccAddresses": ["audit@example.com"]},
        Content={"Simple": {"Subject": {"Data": "Bounce rate alert"},
                            "Body": {"Text": {"Data": "3 bounces\nin 1 hour"},
                                     "Html": {"Data": "<p>3 bounces</p>"}}}},
    )["MessageId"]
    v1_text = ses.send_email(
        Source=f"alerts@{domain}", Destination={"ToAddresses": ["ops@example.com"]},
        Message={"Subject": {"Data": "Text only"}, "Body": {"Text": {"Data": "plain"}}},
        ConfigurationSetName=config_set,
    )["MessageId"]
    v1_html = ses.send_email(
        Source=f"alerts@{domain}", Destination={"BccAddresses": ["audit@example.com"]},
        Message={"Subject": {"Data": "HTML only"}, "Body": {"Html": {"Data": "<b>x</b>"}}},
    )["MessageId"]
    mixed = crlf(MIXED.format(domain=domain, subject=b64("Störung: 3 bounces"),
                              html=b64("<p>Störung</p>")))
    v1_raw = ses.send_raw_email(  # Bcc exists only in Destinations, never in the headers
        RawMessage={"Data": mixed},
        Destinations=["ops@example.com", "cc@example.com", "audit@example.com"],
    )["MessageId"]
    plain = crlf(f"From: alerts@{domain}\nTo: ops@example.com\nCc: cc@example.com\n"
                 "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\nline 1\nline 2\n")
    v2_raw = sesv2.send_email(Content={"Raw": {"Data": plain}})["MessageId"]  # no Subject

    got = messages(emulator, TRACKSES, region)
    assert without_time(got) == [
        sent(v2_simple, f"alerts@{domain}",
             ["ops@example.com", "cc@example.com", "audit@example.com"],
             "Bounce rate alert", "3 bounces\nin 1 hour", "<p>3 bounces</p>"),
        sent(v1_text, f"alerts@{domain}", ["ops@example.com"], "Text only", "plain", None),
        sent(v1_html, f"alerts@{domain}", ["audit@example.com"], "HTML only", None, "<b>x</b>"),
        sent(v1_raw, f"alerts@{domain}",
             ["ops@example.com", "cc@example.com", "audit@example.com"],
             "Störung: 3 bounces", "Störung: 3 bounces", "<p>Störung</p>"),
        sent(v2_raw, f"alerts@{domain}", ["ops@example.com", "cc@example.com"],
             None, "line 1\nline 2\n", None),
    ], got
    times = [m["sent_at"] for m in got]
    assert times == sorted(times), times


def test_only_the_named_account_and_region(emulator):
    region, elsewhere = "ca-central-1", "sa-east-1"  # no other test sends in either
    domain = f"{unique('isolated')}.example"

    def send(sesv2, subject):
        sesv2.create_email_identity(EmailIdentity=domain)
        return sesv2.send_email(
            FromEmailAddress=f"alerts@{domain}", Destination={"ToAddresses": ["ops@example.com"]},
            Content={"Simple": {"Subject": {"Data": subject}, "Body": {"Text": {"Data": "x"}}}},
        )["MessageId"]

    own = send(emulator.client("sesv2", region), "trackses")
    foreign = send(other_account(emulator, "sesv2", region), "other account")
    moved = send(emulator.client("sesv2", elsewhere), "other region")

    assert [m["message_id"] for m in messages(emulator, TRACKSES, region)] == [own]
    assert [m["message_id"] for m in messages(emulator, OTHER, region)] == [foreign]
    assert [m["message_id"] for m in messages(emulator, TRACKSES, elsewhere)] == [moved]
    assert messages(emulator, OTHER, elsewhere) == []
    assert messages(emulator, "999988887777", region) == []  # an account that never called


def test_trackses_account_sends_only_from_a_verified_identity(emulator):
    """trackses' own account in its home region: an unverified sender is MessageRejected (v1
    and v2 alike) and nothing reaches the outbox; once the domain is an identity the same send
    is accepted and listed. Other tests send here too: only what this test adds is compared."""
    region = "eu-west-1"
    sesv2, ses = emulator.client("sesv2", region), emulator.client("ses", region)
    assert emulator.client("sts", region).get_caller_identity()["Account"] == TRACKSES
    domain = f"{unique('trackses-alerts')}.example"
    mail = {"FromEmailAddress": f"trackses <alerts@{domain}>",
            "Destination": {"ToAddresses": ["owner@example.com"]},
            "Content": {"Simple": {"Subject": {"Data": "Alert"},
                                   "Body": {"Text": {"Data": "bounce rate 5%"}}}}}
    before = messages(emulator, TRACKSES, region)

    assert error_code(sesv2.send_email, **mail) == "MessageRejected"
    assert error_code(ses.send_email, Source=f"alerts@{domain}",
                      Destination={"ToAddresses": ["owner@example.com"]},
                      Message={"Subject": {"Data": "Alert"},
                               "Body": {"Text": {"Data": "x"}}}) == "MessageRejected"
    assert messages(emulator, TRACKSES, region) == before

    sesv2.create_email_identity(EmailIdentity=domain)
    message_id = sesv2.send_email(**mail)["MessageId"]
    after = messages(emulator, TRACKSES, region)
    assert after[:len(before)] == before
    assert without_time(after[len(before):]) == [
        sent(message_id, f"alerts@{domain}", ["owner@example.com"], "Alert", "bounce rate 5%",
             None)]


def test_a_paused_account_sends_nothing(emulator):
    region = "us-west-1"  # pausing is per account and region: no other test sends here
    sesv2 = emulator.client("sesv2", region)
    sesv2.create_email_identity(EmailIdentity="paused.example")
    sesv2.put_account_sending_attributes(SendingEnabled=False)
    try:
        assert error_code(
            sesv2.send_email, FromEmailAddress="a@paused.example",
            Destination={"ToAddresses": ["ops@example.com"]},
            Content={"Simple": {"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "b"}}}},
        ) == "SendingPausedException"
    finally:
        sesv2.put_account_sending_attributes(SendingEnabled=True)
    assert messages(emulator, TRACKSES, region) == []


@pytest.mark.parametrize("query", [
    {"region": "eu-west-1"},
    {"account": "12345678901", "region": "eu-west-1"},
    {"account": "1234567890123", "region": "eu-west-1"},
    {"account": "arn:aws:iam::123456789012:root", "region": "eu-west-1"},
    {"account": TRACKSES},
    {"account": TRACKSES, "region": ""},
    {"account": TRACKSES, "region": "mars-north-1"},
])
def test_a_missing_or_invalid_account_or_region_is_a_bad_request(emulator, query):
    status, body = outbox(emulator, **query)
    assert status == 400 and set(body) == {"message"} and body["message"], body


def test_only_get(emulator):
    status, body = outbox(emulator, method="POST", account=TRACKSES, region="eu-west-1")
    assert status == 405 and body["message"], body
