"""End-to-end check of the trackses AWS emulator's SNS behaviour.

Run from the repo root:  PYTHONPATH=dev/emulator .venv/bin/python dev/emulator/selftest.py
Starts the emulator on a free port, receives SNS POSTs with a local http.server and checks
signatures (independently of trackses_emulator.signing), headers and the confirmation flow.
"""

import base64
import json
import os
import queue
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

REGION = "eu-central-1"
HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """Local HTTP endpoint; every POST is queued per path as (headers, body)."""

    def __init__(self):
        self.queues: dict[str, queue.Queue] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
                receiver.queue(self.path).put((dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def queue(self, path) -> queue.Queue:
        return self.queues.setdefault(path, queue.Queue())

    def get(self, path, timeout=5.0):
        try:
            return self.queue(path).get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"nothing POSTed to {path} within {timeout}s") from None

    def expect_nothing(self, path, wait=1.0):
        try:
            got = self.queue(path).get(timeout=wait)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected POST to {path}: {got[1][:200]}")

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# --- independent SNS verifier ---------------------------------------------------------

SIGNED = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": [
        "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type",
    ],
}
SIGNED["UnsubscribeConfirmation"] = SIGNED["SubscriptionConfirmation"]


def verify(msg: dict, cert: x509.Certificate, cert_name: str, version: str) -> None:
    assert msg["SignatureVersion"] == version, msg["SignatureVersion"]
    region = msg["TopicArn"].split(":")[3]
    assert msg["SigningCertURL"] == f"https://sns.{region}.amazonaws.com/{cert_name}", msg
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", msg["Timestamp"]), msg
    text = "".join(f"{k}\n{msg[k]}\n" for k in SIGNED[msg["Type"]] if k in msg)
    algo = hashes.SHA1() if version == "1" else hashes.SHA256()
    cert.public_key().verify(
        base64.b64decode(msg["Signature"]), text.encode("utf-8"), padding.PKCS1v15(), algo
    )


def check_headers(headers: dict, msg: dict, sub_arn) -> None:
    h = {k.lower(): v for k, v in headers.items()}
    assert h["content-type"] == "text/plain; charset=UTF-8", h
    assert h["x-amz-sns-message-type"] == msg["Type"], h
    assert h["x-amz-sns-message-id"] == msg["MessageId"], h
    assert h["x-amz-sns-topic-arn"] == msg["TopicArn"], h
    if sub_arn:
        assert h["x-amz-sns-subscription-arn"] == sub_arn, h


def main() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    tmp = tempfile.mkdtemp(prefix="trackses-emu-")
    env = dict(os.environ, TRACKSES_AWS_PORT=str(port), TRACKSES_SNS_CERT_DIR=f"{tmp}/certs",
               PYTHONPATH=str(HERE), TRACKSES_EMULATOR_AUTOCONFIRM="")
    log = open(f"{tmp}/emulator.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "trackses_emulator"], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    recv = Receiver()
    dying = Receiver()
    ok = False
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None, "emulator exited"
                time.sleep(0.1)
        run_checks(base, tmp, recv, dying)
        ok = True
        print("selftest OK")
    except BaseException:
        log.flush()
        print(f"selftest FAILED; emulator log: {tmp}/emulator.log", file=sys.stderr)
        print(Path(f"{tmp}/emulator.log").read_text()[-3000:], file=sys.stderr)
        raise
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        recv.stop()
        if ok:
            shutil.rmtree(tmp)


def run_checks(base: str, tmp: str, recv: Receiver, dying: Receiver) -> None:
    certs = list(Path(f"{tmp}/certs").iterdir())
    assert len(certs) == 1 and re.fullmatch(
        r"SimpleNotificationService-[0-9a-f]{32}\.pem", certs[0].name
    ), certs
    cert_name, cert_pem = certs[0].name, certs[0].read_bytes()
    cert = x509.load_pem_x509_certificate(cert_pem)
    with urllib.request.urlopen(f"{base}/{cert_name}") as r:  # unsigned GET, like a verifier
        assert r.read() == cert_pem

    sns = boto3.client("sns", endpoint_url=base, region_name=REGION,
                       aws_access_key_id="testing", aws_secret_access_key="testing")

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
