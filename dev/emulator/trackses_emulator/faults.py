"""Fault injection for tests: answer chosen requests with DynamoDB's InternalServerError.

  POST   /_trackses/faults {"target": "DynamoDB_20120810.UpdateItem", "skip": 1, "fail": 4}
         -> 200, the fault as GET lists it; 400 {"message"} for an invalid one
  GET    /_trackses/faults -> 200 {"faults": [{"target", "skip", "fail", "apply", "failed"}]}
  DELETE /_trackses/faults -> 204, every fault cleared

A fault matches requests by their X-Amz-Target header (exactly) and, when it names
`"body_contains": "<text>"`, only those whose body holds that text (one tenant's keys, say): it lets the next `skip` of them
through (default 0), answers the `fail` after those (default 1, at least 1) with HTTP 500 and
DynamoDB's error body, then is gone and the target behaves normally again. GET lists the faults
still pending, with what is left of `skip` and `fail` and how many requests each `failed` so far.
POSTing a target that already has a fault replaces that fault. With `"apply": true` a failed
request is carried out first and only its answer is replaced (a client that gets a 500 cannot
know whether its write happened, and a retry must cope with both); by default it never reaches
moto. Requests are counted under one lock, so concurrent requests each take one place.

The answer is what DynamoDB sends for an internal error (API reference, "Common Errors" and
InternalServerError: HTTP 500, JSON protocol 1.0 error body):
  {"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError",
   "message":"Internal server error"}   (on one line)
with Content-Type application/x-amz-json-1.0, an x-amzn-RequestId and DynamoDB's x-amz-crc32 of
the body. It is sent for any target, DynamoDB Streams' (DynamoDBStreams_20120810.GetRecords) too.
"""

import io
import json
import threading
import uuid
import zlib

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

PATH = "/_trackses/faults"
ERROR_BODY = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                         "message": "Internal server error"}, separators=(",", ":")).encode()

_orig: dict = {}
_faults: dict = {}  # target -> {"target", "skip", "fail", "apply", "failed"}, in POST order
_lock = threading.Lock()


def add(spec) -> dict:
    """Validates and installs a fault; the installed fault. ValueError says what is wrong."""
    if not isinstance(spec, dict):
        raise ValueError("the body must be a JSON object")
    unknown = set(spec) - {"target", "skip", "fail", "apply", "body_contains"}
    if unknown:
        raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
    target = spec.get("target")
    if not isinstance(target, str) or not target:
        raise ValueError('"target" must be an X-Amz-Target value, e.g. "DynamoDB_20120810.PutItem"')
    skip, fail, carry_out = spec.get("skip", 0), spec.get("fail", 1), spec.get("apply", False)
    for name, value, least in (("skip", skip, 0), ("fail", fail, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or value < least:
            raise ValueError(f'"{name}" must be an integer of at least {least}')
    if not isinstance(carry_out, bool):
        raise ValueError('"apply" must be true or false')
    needle = spec.get("body_contains")
    if needle is not None and (not isinstance(needle, str) or not needle):
        raise ValueError('"body_contains" must be a non-empty string')
    fault = {"target": target, "skip": skip, "fail": fail, "apply": carry_out, "failed": 0}
    if needle is not None:
        fault["body_contains"] = needle
    with _lock:
        _faults.pop(target, None)
        _faults[target] = fault
        return dict(fault)


def pending() -> list:
    with _lock:
        return [dict(f) for f in _faults.values()]


def clear() -> None:
    with _lock:
        _faults.clear()


def wants_body(target) -> bool:
    """Whether the fault pending for `target` looks into bodies."""
    with _lock:
        return "body_contains" in _faults.get(target, {})


def decide(target, body: bytes | None = None) -> dict | None:
    """Counts one request; the fault to answer it with, or None to let it through."""
    if not target:
        return None
    with _lock:
        fault = _faults.get(target)
        if fault is None:
            return None
        needle = fault.get("body_contains")
        if needle is not None and (body is None or needle.encode() not in body):
            return None
        if fault["skip"]:
            fault["skip"] -= 1
            return None
        fault["fail"] -= 1
        fault["failed"] += 1
        if not fault["fail"]:
            del _faults[target]
        return dict(fault)


def _respond(start_response, status: str, body: bytes, content_type="application/json",
             extra=()):
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))),
                            *extra])
    return [body]


def _endpoint(environ, start_response):
    method = environ.get("REQUEST_METHOD")
    if method == "GET":
        return _respond(start_response, "200 OK", json.dumps({"faults": pending()}).encode())
    if method == "DELETE":
        clear()
        start_response("204 No Content", [])
        return [b""]
    if method != "POST":
        start_response("405 Method Not Allowed", [("Allow", "GET, POST, DELETE")])
        return [b""]
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        fault = add(json.loads(environ["wsgi.input"].read(length) or b"null"))
    except ValueError as e:  # json.JSONDecodeError is one
        return _respond(start_response, "400 Bad Request", json.dumps({"message": str(e)}).encode())
    return _respond(start_response, "200 OK", json.dumps(fault).encode())


def _internal_server_error(start_response):
    return _respond(start_response, "500 Internal Server Error", ERROR_BODY,
                    content_type="application/x-amz-json-1.0",
                    extra=[("x-amzn-RequestId", uuid.uuid4().hex.upper()),
                           ("x-amz-crc32", str(zlib.crc32(ERROR_BODY)))])


def _call(self, environ, start_response):
    if environ.get("PATH_INFO", "").rstrip("/") == PATH:
        return _endpoint(environ, start_response)
    target = environ.get("HTTP_X_AMZ_TARGET")
    body = None
    if target and wants_body(target):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)  # read again by whoever handles it
    fault = decide(target, body)
    if fault is None:
        return _orig["call"](self, environ, start_response)
    if fault["apply"]:
        answer = _orig["call"](self, environ, lambda *args, **kwargs: None)
        try:
            for _ in answer:  # the request is carried out; its answer is dropped
                pass
        finally:
            getattr(answer, "close", lambda: None)()
    else:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > 0:  # the body is read, as a server would, and discarded
            environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(b"")
    return _internal_server_error(start_response)


def apply() -> None:
    if _orig:
        return
    _orig["call"] = DomainDispatcherApplication.__call__
    DomainDispatcherApplication.__call__ = _call
