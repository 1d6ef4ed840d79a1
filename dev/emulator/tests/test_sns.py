"""SNS towards HTTP(S) subscribers, as AWS documents it: signed confirmations and notifications
(SignatureVersion 1 and 2, Subject signed when present), pending until confirmed, confirmation
by token only, failing subscribers isolated, unsubscribe confirmations."""

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

from botocore.exceptions import ClientError
from cryptography import x509

from support import Receiver, check_headers, verify

REGION = "eu-central-1"


def test_sns_http_subscribers(emulator, receiver):
    dying = Receiver()
    try:
        run_checks(emulator, receiver, dying)
    finally:
        dying.stop()


def run_checks(emulator, recv: Receiver, dying: Receiver) -> None:
    base = emulator.base
    certs = list(emulator.cert_dir.iterdir())
    assert len(certs) == 1 and re.fullmatch(
        r"SimpleNotificationService-[0-9a-f]{32}\.pem", certs[0].name
    ), certs
    cert_name, cert_pem = certs[0].name, certs[0].read_bytes()
    cert = x509.load_pem_x509_certificate(cert_pem)
    with urllib.request.urlopen(f"{base}/{cert_name}") as r:  # unsigned GET, like a verifier
        assert r.read() == cert_pem

    sns = emulator.client("sns", REGION)

    def confirmation(path, topic_arn, version):
        headers, body = recv.get(path)
        msg = json.loads(body)
        assert msg["Type"] == "SubscriptionConfirmation", msg
        check_headers(headers, msg, None)
        verify(msg, cert, cert_name, version)
        assert msg["TopicArn"] == topic_arn
        assert re.fullmatch(r"[0-9a-f]{64,}", msg["Token"]), msg["Token"]
        assert msg["SubscribeURL"] == (
            f"{base}/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={msg['Token']}"
        )
        assert "UnsubscribeURL" not in msg
        return msg

    def notification(path, sub_arn, version, message, subject=None):
        headers, body = recv.get(path)
        msg = json.loads(body)
        assert msg["Type"] == "Notification", msg
        check_headers(headers, msg, sub_arn)
        verify(msg, cert, cert_name, version)
        assert msg["Message"] == message, msg
        assert msg.get("Subject") == subject, msg
        region = msg["TopicArn"].split(":")[3]
        assert msg["UnsubscribeURL"] == (
            f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={sub_arn}"
        ), msg
        return msg

    # --- SignatureVersion 1 (default) topic, confirmed by GET of SubscribeURL -----------
    t1 = sns.create_topic(Name="selftest-v1")["TopicArn"]
    resp = sns.subscribe(TopicArn=t1, Protocol="http", Endpoint=f"{recv.url}/a")
    assert resp["SubscriptionArn"] == "pending confirmation", resp
    conf = confirmation("/a", t1, "1")
    listed = sns.list_subscriptions_by_topic(TopicArn=t1)["Subscriptions"]
    assert [s["SubscriptionArn"] for s in listed] == ["PendingConfirmation"], listed

    sns.publish(TopicArn=t1, Message="before confirmation")
    recv.expect_nothing("/a")

    for bad in ("00" * 64, "nope"):
        try:
            sns.confirm_subscription(TopicArn=t1, Token=bad)
            raise AssertionError("wrong token accepted")
        except ClientError as e:
            assert e.response["Error"]["Code"] == "InvalidParameter", e.response
    try:
        urllib.request.urlopen(conf["SubscribeURL"].replace(conf["Token"], "ab" * 64))
        raise AssertionError("wrong token accepted via GET")
    except urllib.error.HTTPError as e:
        assert e.code == 400 and b"InvalidParameter" in e.read()

    with urllib.request.urlopen(conf["SubscribeURL"]) as r:  # no Authorization header
        xml = r.read().decode()
        assert r.status == 200
    assert "<ConfirmSubscriptionResponse" in xml, xml
    sub_a = re.search(r"<SubscriptionArn>(.+?)</SubscriptionArn>", xml).group(1)
    assert sub_a.startswith(t1 + ":"), xml
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_a)["Attributes"]
    assert attrs["PendingConfirmation"] == "false", attrs
    assert attrs["ConfirmationWasAuthenticated"] == "false", attrs

    sns.publish(TopicArn=t1, Message="hello v1")
    notification("/a", sub_a, "1", "hello v1")
    sns.publish(TopicArn=t1, Message='{"eventType":"Bounce"}', Subject="Amazon SES Email Event Notification")
    notification("/a", sub_a, "1", '{"eventType":"Bounce"}', "Amazon SES Email Event Notification")

    # --- SignatureVersion 2 topic, confirmed by the API; a dead subscriber -------------
    t2 = sns.create_topic(Name="selftest-v2", Attributes={"SignatureVersion": "2"})["TopicArn"]
    assert sns.get_topic_attributes(TopicArn=t2)["Attributes"]["SignatureVersion"] == "2"
    sns.subscribe(TopicArn=t2, Protocol="http", Endpoint=f"{dying.url}/gone")
    dead_conf = json.loads(dying.get("/gone")[1])
    sns.confirm_subscription(TopicArn=t2, Token=dead_conf["Token"])
    dying.stop()  # confirmed, then the subscriber goes away (connection refused)

    sns.subscribe(TopicArn=t2, Protocol="http", Endpoint=f"{recv.url}/b")
    conf_b = confirmation("/b", t2, "2")
    try:
        sns.confirm_subscription(TopicArn=t1, Token=conf_b["Token"])
        raise AssertionError("token accepted for another topic")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "InvalidParameter", e.response
    sub_b = sns.confirm_subscription(TopicArn=t2, Token=conf_b["Token"])["SubscriptionArn"]
    attrs = sns.get_subscription_attributes(SubscriptionArn=sub_b)["Attributes"]
    assert attrs["ConfirmationWasAuthenticated"] == "true", attrs

    sns.publish(TopicArn=t2, Message="hello v2")  # must not fail because of the dead one
    notification("/b", sub_b, "2", "hello v2")
    sns.publish(TopicArn=t2, Message="with subject", Subject="Hi")
    notification("/b", sub_b, "2", "with subject", "Hi")

    # --- SetTopicAttributes switches SignatureVersion; invalid values refused -----------
    sns.set_topic_attributes(TopicArn=t1, AttributeName="SignatureVersion", AttributeValue="2")
    sns.publish(TopicArn=t1, Message="now v2", Subject="S")
    notification("/a", sub_a, "2", "now v2", "S")
    try:
        sns.set_topic_attributes(TopicArn=t1, AttributeName="SignatureVersion", AttributeValue="3")
        raise AssertionError("SignatureVersion 3 accepted")
    except ClientError as e:
        assert e.response["Error"]["Code"] == "InvalidParameter", e.response

    # --- raw message delivery (trackses must refuse it; the emulator must produce it) ---
    resp = sns.subscribe(TopicArn=t2, Protocol="http", Endpoint=f"{recv.url}/raw",
                         Attributes={"RawMessageDelivery": "true"}, ReturnSubscriptionArn=True)
    sub_raw = resp["SubscriptionArn"]
    assert sub_raw.startswith(t2 + ":"), resp
    sns.confirm_subscription(TopicArn=t2, Token=json.loads(recv.get("/raw")[1])["Token"])
    sns.publish(TopicArn=t2, Message="raw body")
    recv.get("/b")
    headers, body = recv.get("/raw")
    assert body == "raw body" and headers.get("x-amz-sns-rawdelivery") == "true", headers

    # --- Unsubscribe sends a signed UnsubscribeConfirmation ----------------------------
    sns.unsubscribe(SubscriptionArn=sub_a)
    headers, body = recv.get("/a")
    msg = json.loads(body)
    assert msg["Type"] == "UnsubscribeConfirmation", msg
    check_headers(headers, msg, sub_a)
    verify(msg, cert, cert_name, "2")
    assert re.fullmatch(r"[0-9a-f]{64,}", msg["Token"]) and msg["SubscribeURL"].startswith(base)
    sns.publish(TopicArn=t1, Message="after unsubscribe")
    recv.expect_nothing("/a")
    with urllib.request.urlopen(msg["SubscribeURL"]) as r:  # restores the subscription
        assert r.status == 200
    sns.publish(TopicArn=t1, Message="restored")
    notification("/a", sub_a, "2", "restored")
    recv.expect_nothing("/a", wait=0.5)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"selftest FAILED: {e!r}", file=sys.stderr)
        sys.exit(1)
