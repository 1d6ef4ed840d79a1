"""SNS -> Lambda delivery without Docker: when TRACKSES_LAMBDA_ENDPOINT is set (read at every
delivery), a `lambda` subscription's notification is POSTed as the Lambda SNS event to
{TRACKSES_LAMBDA_ENDPOINT}/2015-03-31/functions/{name}/invocations (the Lambda Invoke API path).

- the record carries the same signed fields as the HTTP envelope (sns_patches._envelope), with
  Lambda's spellings SigningCertUrl/UnsubscribeUrl and Subject null when absent;
- delivery runs on one background thread (Publish does not wait, order is kept); failures are
  logged, never raised;
- without the variable, moto's own (Docker-based) lambda delivery is kept;
- `POST /_trackses/lambda-endpoint {"url": "http://…"}` (unsigned, emulator-only) sets the
  variable at runtime; {"url": null} unsets it. The response is {"url": <current value>}.
"""

import json
import logging
import os
import queue
import threading
from urllib.parse import quote

import requests
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sns import urls as sns_urls
from moto.sns.models import Subscription

from . import sns_patches

log = logging.getLogger("trackses_emulator.lambda")

ENV = "TRACKSES_LAMBDA_ENDPOINT"
CONFIG_PATH = "/_trackses/lambda-endpoint"
INVOKE_TIMEOUT = 30  # seconds

_orig: dict = {}
_jobs: "queue.Queue[tuple[str, str, dict]]" = queue.Queue()


def invoke_url(endpoint: str, function_arn: str) -> str:
    """arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER] -> Invoke API URL."""
    parts = function_arn.split(":")
    url = f"{endpoint.rstrip('/')}/2015-03-31/functions/{quote(parts[6], safe='')}/invocations"
    if len(parts) > 7:
        url += f"?Qualifier={quote(parts[7], safe='')}"
    return url


def lambda_event(sub, message, message_id, subject=None, message_attributes=None) -> dict:
    msg = sns_patches._envelope(sub, "Notification", message, message_id, subject,
                                attributes=message_attributes)
    record = {
        "Type": msg["Type"],
        "MessageId": msg["MessageId"],
        "TopicArn": msg["TopicArn"],
        "Subject": msg.get("Subject"),
        "Message": msg["Message"],
        "Timestamp": msg["Timestamp"],
        "SignatureVersion": msg["SignatureVersion"],
        "Signature": msg["Signature"],
        "SigningCertUrl": msg["SigningCertURL"],
        "UnsubscribeUrl": msg["UnsubscribeURL"],
        "MessageAttributes": msg.get("MessageAttributes") or {},
    }
    return {"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": sub.arn,
        "Sns": record,
    }]}


def _worker() -> None:
    while True:
        url, message_id, event = _jobs.get()
        try:
            resp = requests.post(url, data=json.dumps(event).encode("utf-8"),
                                 headers={"Content-Type": "application/json"},
                                 timeout=INVOKE_TIMEOUT)
            error = resp.headers.get("X-Amz-Function-Error")
            ok = 200 <= resp.status_code < 300 and not error
            log.log(logging.INFO if ok else logging.WARNING, "Lambda %s -> %s: HTTP %s%s",
                    message_id, url, resp.status_code, f" ({error})" if error else "")
        except Exception as exc:  # noqa: BLE001 - a failing function must not break Publish
            log.warning("Lambda %s -> %s failed: %s", message_id, url, exc)


def _subscription_publish(self, message, message_id, subject=None, message_attributes=None,
                          group_id=None, deduplication_id=None, message_structure=None):
    endpoint = os.environ.get(ENV)
    if self.protocol != "lambda" or not endpoint:
        return _orig["publish"](
            self, message, message_id, subject=subject, message_attributes=message_attributes,
            group_id=group_id, deduplication_id=deduplication_id,
            message_structure=message_structure,
        )
    matcher = self._filter_policy_matcher
    if matcher is not None and not matcher.matches(message_attributes, message):
        return
    if message_structure == "json":
        message = self._parse_message_structure(message, self.protocol)
    event = lambda_event(self, message, message_id, subject, message_attributes)
    _jobs.put((invoke_url(endpoint, self.endpoint), message_id, event))


def _set_endpoint(request, full_url, headers):
    if request.method == "POST":
        try:
            url = json.loads(request.get_data() or b"{}").get("url")
        except (ValueError, AttributeError):
            return 400, {"Content-Type": "application/json"}, json.dumps({"error": "bad JSON"})
        if url:
            os.environ[ENV] = str(url)
        else:
            os.environ.pop(ENV, None)
        log.info("%s=%s", ENV, url or "")
    body = json.dumps({"url": os.environ.get(ENV)})
    return 200, {"Content-Type": "application/json"}, body


def _infer_service_region_host(self, environ, path):
    """Unsigned requests to the config path go to the SNS app, which serves it."""
    if path == CONFIG_PATH and not environ.get("HTTP_AUTHORIZATION"):
        return "sns.us-east-1.amazonaws.com"
    return _orig["infer_service_region_host"](self, environ, path)


def apply() -> None:
    """Call after sns_patches.apply(): wraps the (patched) Subscription.publish."""
    if _orig:
        return
    _orig["publish"] = Subscription.publish
    Subscription.publish = _subscription_publish
    _orig["infer_service_region_host"] = DomainDispatcherApplication.infer_service_region_host
    DomainDispatcherApplication.infer_service_region_host = _infer_service_region_host
    sns_urls.url_paths["{0}" + CONFIG_PATH + "$"] = _set_endpoint
    threading.Thread(target=_worker, name="lambda-delivery", daemon=True).start()
