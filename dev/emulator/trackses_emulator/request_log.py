"""A log of every request the emulator serves, for tests that check who called what.

  GET    /_trackses/requests[?access_key_id=&action=&service=]  -> JSON list, oldest first
  DELETE /_trackses/requests                                    -> 204, log cleared

Each entry: time, access_key_id, account and caller ARN (as sts:GetCallerIdentity reports
them), service (SigV4 signing name, e.g. "ses" for SES v1 and v2), action ("sns:CreateTopic",
"ses:SendEmail"...), resources (the resource names the request names) and HTTP status.
Implemented by wrapping moto's DomainDispatcherApplication.__call__, so requests to
/_trackses/ never reach moto's dispatcher (which would guess a backend, S3 by default).
"""

import io
import json
import re
import threading
from collections import deque
from datetime import datetime, timezone
from urllib.parse import parse_qs, unquote

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from . import sesv2_routes
from .sts_iam_patches import caller_identity

PATH = "/_trackses/requests"
MAX_ENTRIES = 10000

# Parameters that name a resource, in query (Action=...) and JSON request bodies.
RESOURCE_KEYS = (
    "TopicArn", "TargetArn", "SubscriptionArn", "Name", "ConfigurationSetName",
    "EmailIdentity", "Identity", "RoleArn", "RoleName", "UserName", "PolicyArn", "PolicyName",
    "TableName", "KeyId", "FunctionName", "QueueUrl", "StackName",
)

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")

_entries: deque = deque(maxlen=MAX_ENTRIES)
_lock = threading.Lock()
_orig: dict = {}


def _read_body(environ) -> bytes:
    """Read the request body and put it back for moto."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:  # no body, or chunked: leave the stream alone
        return b""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def describe(environ, body: bytes) -> dict:
    """service, action and resources of a request (no moto state is touched)."""
    method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "")
    auth = environ.get("HTTP_AUTHORIZATION") or ""
    credential = _CREDENTIAL.search(auth)
    key = credential[1] if credential else None
    service = credential[3] if credential else None
    region = credential[2] if credential else "us-east-1"
    params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    content_type = environ.get("CONTENT_TYPE") or ""
    if "x-www-form-urlencoded" in content_type or (body and not content_type):
        params.update({k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()})
    elif body:
        try:
            data = json.loads(body)
            params.update(data if isinstance(data, dict) else {})
        except ValueError:
            pass
    presigned = params.get("X-Amz-Credential", "").split("/")[0]
    key = key or params.get("AWSAccessKeyId") or presigned or None

    operation = params.get("Action")
    target = environ.get("HTTP_X_AMZ_TARGET")
    if not operation and target:
        operation = target.rsplit(".", 1)[-1]
    if not operation and path.startswith("/v2/"):
        found = sesv2_routes.operation(method, path)
        if found:
            operation, names = found
            params.update({k: unquote(v) for k, v in names.items()})
    if not service and path.startswith("/v2/email/"):
        service = "ses"
    operation = operation or f"{method} {path}"  # other REST APIs: "ses:POST /v2/..."

    resources = {k: params[k] for k in RESOURCE_KEYS if isinstance(params.get(k), str)}
    return {
        "access_key_id": key,
        "service": service,
        "region": region,
        "action": f"{service}:{operation}" if service else operation,
        "resources": resources,
    }


def _identity(key, region, account):
    if not key:
        return None, None
    try:
        return caller_identity(key, region, account)
    except Exception:  # noqa: BLE001 - the log must never break a request
        return None, None


def _query(environ, start_response):
    method = environ.get("REQUEST_METHOD")
    if method == "DELETE":
        with _lock:
            _entries.clear()
        start_response("204 No Content", [])
        return [b""]
    if method != "GET":
        start_response("405 Method Not Allowed", [("Allow", "GET, DELETE")])
        return [b""]
    filters = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()
               if k in ("access_key_id", "action", "service")}
    with _lock:
        found = [e for e in _entries if all(e.get(k) == v for k, v in filters.items())]
    body = json.dumps(found).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]


def _call(self, environ, start_response):
    if environ.get("PATH_INFO", "").rstrip("/") == PATH:
        return _query(environ, start_response)
    try:
        entry = describe(environ, _read_body(environ))
    except Exception:  # noqa: BLE001
        entry = {"action": None}
    entry = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), **entry}
    status = {}

    def recording_start_response(status_line, headers, exc_info=None):
        status["code"] = int(status_line.split(" ", 1)[0])
        return start_response(status_line, headers, exc_info)

    try:
        return _orig["call"](self, environ, recording_start_response)
    finally:
        account, arn = _identity(entry.get("access_key_id"), entry.get("region") or "us-east-1",
                                  environ.get("HTTP_X_MOTO_ACCOUNT_ID"))
        entry.update(account=account, arn=arn, status=status.get("code", 500))
        with _lock:
            _entries.append(entry)


def apply() -> None:
    if _orig:
        return
    _orig["call"] = DomainDispatcherApplication.__call__
    DomainDispatcherApplication.__call__ = _call
