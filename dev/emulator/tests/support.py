"""Helpers for the emulator's own tests: a local HTTP receiver and an SNS verifier written from
AWS's documentation, independent of trackses_emulator.signing."""

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
import yaml
from botocore.exceptions import ClientError
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """Local HTTP endpoint; every POST is queued per path as (headers, body) and answered with
    the status answer(headers) gives (200 unless told)."""

    def __init__(self, answer=lambda headers: 200):
        self.queues: dict[str, queue.Queue] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8")
                status = answer(dict(self.headers))
                receiver.queue(self.path).put((dict(self.headers), body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # stop() waits up to one poll interval (0.5 s by default), and tests stop many receivers.
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

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




class TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Sub, !Ref, ...) as their long form."""


def _intrinsic(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


TemplateLoader.add_multi_constructor("!", _intrinsic)
