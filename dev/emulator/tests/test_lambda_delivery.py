"""SNS -> Lambda without Docker: with the Lambda endpoint set (at runtime through the emulator-only
POST /_trackses/lambda-endpoint), a `lambda` subscription gets the Lambda SNS event POSTed to the
Invoke API path, signed like the HTTP envelope."""

import json
import urllib.request

from cryptography import x509

from support import verify

REGION = "eu-central-1"
FUNCTION_ARN = "arn:aws:lambda:eu-central-1:123456789012:function:ingest-sns"
INVOKE_PATH = "/2015-03-31/functions/ingest-sns/invocations"


def set_endpoint(base, url):
    req = urllib.request.Request(f"{base}/_trackses/lambda-endpoint", method="POST",
                                 data=json.dumps({"url": url}).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        assert json.load(resp) == {"url": url}


def check_record(event, cert, cert_name, topic_arn, sub_arn, version, message, subject):
    assert list(event) == ["Records"] and len(event["Records"]) == 1, event
    record = event["Records"][0]
    assert {k: record[k] for k in ("EventSource", "EventVersion", "EventSubscriptionArn")} == {
        "EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": sub_arn}
    sns = record["Sns"]
    assert list(sns) == ["Type", "MessageId", "TopicArn", "Subject", "Message", "Timestamp",
                         "SignatureVersion", "Signature", "SigningCertUrl", "UnsubscribeUrl",
                         "MessageAttributes"], sns
    assert (sns["Type"], sns["TopicArn"], sns["Message"], sns["Subject"]) == (
        "Notification", topic_arn, message, subject), sns
    assert sns["UnsubscribeUrl"] == (
        f"https://sns.{REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={sub_arn}")
    # Same signature as the HTTP envelope: back to its spellings for the verifier.
    msg = {k: v for k, v in sns.items() if v is not None}
    msg["SigningCertURL"] = msg.pop("SigningCertUrl")
    verify(msg, cert, cert_name, version)
    return sns


def test_lambda_subscription(emulator, receiver):
    cert_name = next(emulator.cert_dir.iterdir()).name
    cert = x509.load_pem_x509_certificate(emulator.cert_dir.joinpath(cert_name).read_bytes())
    sns = emulator.client("sns", REGION)
    topic_arn = sns.create_topic(Name="trackses-lambda", Attributes={"SignatureVersion": "2"})[
        "TopicArn"]
    # Lambda subscriptions need no confirmation.
    sub_arn = sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=FUNCTION_ARN)[
        "SubscriptionArn"]
    assert sub_arn.startswith(topic_arn + ":"), sub_arn

    set_endpoint(emulator.base, receiver.url)
    try:
        sns.publish(TopicArn=topic_arn, Message='{"eventType":"Bounce"}')
        headers, body = receiver.get(INVOKE_PATH)
        assert headers["Content-Type"] == "application/json", headers
        check_record(json.loads(body), cert, cert_name, topic_arn, sub_arn, "2",
                     '{"eventType":"Bounce"}', None)

        sns.publish(TopicArn=topic_arn, Message="hello", Subject="Hi",
                    MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}})
        _, body = receiver.get(INVOKE_PATH)
        record = check_record(json.loads(body), cert, cert_name, topic_arn, sub_arn, "2",
                              "hello", "Hi")
        assert record["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}, record

        # A qualified function ARN goes to the same path with ?Qualifier=.
        sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=FUNCTION_ARN + ":live")
        sns.publish(TopicArn=topic_arn, Message="both")
        got = sorted(json.loads(receiver.get(p)[1])["Records"][0]["Sns"]["Message"]
                     for p in (INVOKE_PATH, INVOKE_PATH + "?Qualifier=live"))
        assert got == ["both", "both"]
    finally:
        set_endpoint(emulator.base, None)


def test_unreachable_lambda_endpoint_does_not_break_publish(emulator, receiver):
    sns = emulator.client("sns", REGION)
    topic_arn = sns.create_topic(Name="trackses-lambda-down")["TopicArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="lambda", Endpoint=FUNCTION_ARN)
    sns.subscribe(TopicArn=topic_arn, Protocol="lambda",
                  Endpoint=FUNCTION_ARN.replace("ingest-sns", "other"))
    set_endpoint(emulator.base, "http://127.0.0.1:9")  # nothing listens there
    try:
        assert sns.publish(TopicArn=topic_arn, Message="x")["MessageId"]
    finally:
        set_endpoint(emulator.base, None)
    # The next delivery (after the failed one) still works.
    set_endpoint(emulator.base, receiver.url)
    try:
        sns.publish(TopicArn=topic_arn, Message="y")
        assert json.loads(receiver.get(INVOKE_PATH)[1])["Records"][0]["Sns"]["Message"] == "y"
    finally:
        set_endpoint(emulator.base, None)
