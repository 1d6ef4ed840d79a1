"""Monkeypatches that make moto 5.2.5's SNS talk to HTTP(S) subscribers like real SNS.

- every message is signed with the fixed emulator key (signing.py), SignatureVersion taken
  from the topic attribute ("1" unless set to "2"), Subject signed when present;
- http/https subscriptions start pending: a signed SubscriptionConfirmation is POSTed and
  the subscription is confirmed by ConfirmSubscription (API or unsigned GET of SubscribeURL);
- only confirmed subscriptions get Notifications; a failing subscriber is logged and skipped;
- a failed delivery (any message type, as AWS documents) is retried on a background thread by
  the effective delivery policy (sns_retries.py), each delay multiplied by the time scale, and
  dropped with a log line when the policy is exhausted;
- Unsubscribe of a confirmed subscription POSTs a signed UnsubscribeConfirmation.
"""

import json
import logging
import re
import secrets
import threading
import time
import uuid
from datetime import datetime, timezone
from urllib.parse import parse_qs

import requests
from moto.core.responses import ActionResult
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.sns import urls as sns_urls
from moto.sns.exceptions import SNSInvalidParameter, SNSNotFoundError
from moto.sns.models import SNSBackend, Subscription, sns_backends
from moto.sns.responses import SNSResponse

from . import signing, sns_retries

log = logging.getLogger("trackses_emulator.sns")

HTTP = ("http", "https")
POST_TIMEOUT = 5  # seconds
CONFIRM_DELAY = 0.2  # seconds between Subscribe/Unsubscribe and the confirmation POST

_base_url = "http://127.0.0.1:4566"
_autoconfirm = False
_time_scale = 1.0  # multiplies every retry delay (TRACKSES_EMULATOR_SNS_TIME_SCALE)
# token -> (subscription, True if the token re-creates an unsubscribed subscription)
_tokens: dict[str, tuple[Subscription, bool]] = {}
_orig: dict = {}


# --- helpers -------------------------------------------------------------------------


def _now() -> str:
    t = datetime.now(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _region(arn: str) -> str:
    return arn.split(":")[3]


def _pending(sub: Subscription) -> bool:
    return sub.attributes.get("PendingConfirmation") is True


def _is_true(value) -> bool:
    return str(value).lower() == "true"


def _check_signature_version(value) -> None:
    if value is not None and str(value) not in ("1", "2"):
        raise SNSInvalidParameter("Invalid parameter: SignatureVersion")


def _envelope(sub, msg_type, message, message_id=None, subject=None, token=None, attributes=None):
    """The JSON document SNS POSTs, fields in AWS's order, signed."""
    topic_arn = sub.topic.arn
    msg = {"Type": msg_type, "MessageId": message_id or str(uuid.uuid4())}
    if token:
        msg["Token"] = token
    msg["TopicArn"] = topic_arn
    if subject:
        msg["Subject"] = subject
    msg["Message"] = message
    if token:
        msg["SubscribeURL"] = (
            f"{_base_url}/?Action=ConfirmSubscription&TopicArn={topic_arn}&Token={token}"
        )
    msg["Timestamp"] = _now()
    version = str(getattr(sub.topic, "signature_version", None) or "1")
    signing.sign(msg, _region(topic_arn), version)
    if msg_type == "Notification":
        msg["UnsubscribeURL"] = (
            f"https://sns.{_region(topic_arn)}.amazonaws.com/"
            f"?Action=Unsubscribe&SubscriptionArn={sub.arn}"
        )
        if attributes:
            msg["MessageAttributes"] = attributes
    return msg


def _to_json(msg: dict) -> str:
    return json.dumps(msg, indent=2, separators=(",", " : "), ensure_ascii=False)


def _deliver(sub, msg_type, message_id, body: str, raw=False) -> None:
    """POST one message; a failure SNS retries is retried on a background thread, so the caller
    (Publish) waits for the first attempt only. Failures are logged, never raised."""
    if not sns_retries.retryable(_post(sub, msg_type, message_id, body, raw)):
        return
    policy = sns_retries.effective_policy(sub.attributes.get("DeliveryPolicy"),
                                          sub.topic.delivery_policy)
    delays = sns_retries.retry_delays(policy)
    threading.Thread(target=_retry, args=(sub, msg_type, message_id, body, raw, delays),
                     name=f"sns-retry-{message_id}", daemon=True).start()


def _retry(sub, msg_type, message_id, body: str, raw, delays: list[float]) -> None:
    for delay in delays:
        time.sleep(delay * _time_scale)
        if not sns_retries.retryable(_post(sub, msg_type, message_id, body, raw)):
            return
    # Without a dead-letter queue SNS discards the message once the policy is exhausted.
    log.warning("%s %s -> %s dropped after %d retries", msg_type, message_id, sub.endpoint,
                len(delays))


def _post(sub, msg_type, message_id, body: str, raw) -> int | None:
    """One attempt: the endpoint's HTTP status, or None when it did not answer."""
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": "Amazon Simple Notification Service Agent",
        "x-amz-sns-message-type": msg_type,
        "x-amz-sns-message-id": message_id,
        "x-amz-sns-topic-arn": sub.topic.arn,
    }
    if msg_type != "SubscriptionConfirmation":
        headers["x-amz-sns-subscription-arn"] = sub.arn
    if raw:
        headers["x-amz-sns-rawdelivery"] = "true"
    try:
        resp = requests.post(
            sub.endpoint, data=body.encode("utf-8"), headers=headers,
            timeout=POST_TIMEOUT, allow_redirects=False,
        )
    except Exception as exc:  # noqa: BLE001 - one bad subscriber must not break Publish
        log.warning("%s %s -> %s failed: %s", msg_type, message_id, sub.endpoint, exc)
        return None
    level = logging.INFO if 200 <= resp.status_code < 300 else logging.WARNING
    log.log(level, "%s %s -> %s: HTTP %s", msg_type, message_id, sub.endpoint, resp.status_code)
    return resp.status_code


def _send_confirmation_later(sub, msg_type: str, token: str) -> None:
    if msg_type == "SubscriptionConfirmation":
        text = (
            f"You have chosen to subscribe to the topic {sub.topic.arn}.\n"
            "To confirm the subscription, visit the SubscribeURL included in this message."
        )
    else:
        text = (
            f"You have chosen to deactivate subscription {sub.arn}.\n"
            "To cancel this operation and restore the subscription, "
            "visit the SubscribeURL included in this message."
        )

    def send():
        msg = _envelope(sub, msg_type, text, token=token)
        _deliver(sub, msg_type, msg["MessageId"], _to_json(msg))

    timer = threading.Timer(CONFIRM_DELAY, send)
    timer.daemon = True
    timer.start()


# --- model patches -----------------------------------------------------------------


def _get_post_data(self, message, message_id, subject, message_attributes=None):
    # Used by moto for SQS subscriptions: same signed envelope as HTTP.
    return _envelope(self, "Notification", message, message_id, subject, attributes=message_attributes)


def _subscription_publish(self, message, message_id, subject=None, message_attributes=None,
                          group_id=None, deduplication_id=None, message_structure=None):
    if self.protocol not in HTTP:
        return _orig["publish"](
            self, message, message_id, subject=subject, message_attributes=message_attributes,
            group_id=group_id, deduplication_id=deduplication_id,
            message_structure=message_structure,
        )
    if _pending(self):
        log.info("Notification %s not sent to pending subscription %s", message_id, self.arn)
        return
    matcher = self._filter_policy_matcher
    if matcher is not None and not matcher.matches(message_attributes, message):
        return
    if message_structure == "json":
        message = self._parse_message_structure(message, self.protocol)
    if _is_true(self.attributes.get("RawMessageDelivery")):
        _deliver(self, "Notification", message_id, message, raw=True)
    else:
        msg = _envelope(self, "Notification", message, message_id, subject,
                        attributes=message_attributes)
        _deliver(self, "Notification", message_id, _to_json(msg))


def _backend_subscribe(self, topic_arn, endpoint, protocol):
    known = self._find_subscription(topic_arn, endpoint, protocol)
    sub = _orig["subscribe"](self, topic_arn, endpoint, protocol)
    if protocol in HTTP and not _autoconfirm and (known is None or _pending(sub)):
        sub.attributes.update(PendingConfirmation=True, ConfirmationWasAuthenticated=False)
        token = secrets.token_hex(128)
        _tokens[token] = (sub, False)
        _send_confirmation_later(sub, "SubscriptionConfirmation", token)
    return sub


def _backend_unsubscribe(self, subscription_arn):
    sub = self.subscriptions.get(subscription_arn)
    _orig["unsubscribe"](self, subscription_arn)
    if sub is not None and sub.protocol in HTTP and not _pending(sub):
        token = secrets.token_hex(128)
        _tokens[token] = (sub, True)
        _send_confirmation_later(sub, "UnsubscribeConfirmation", token)


def _backend_create_topic(self, name, attributes=None, tags=None):
    _check_signature_version((attributes or {}).get("SignatureVersion"))
    return _orig["create_topic"](self, name, attributes, tags)


def _backend_set_topic_attribute(self, topic_arn, attribute_name, attribute_value):
    if attribute_name == "signature_version":
        _check_signature_version(attribute_value)
    return _orig["set_topic_attribute"](self, topic_arn, attribute_name, attribute_value)


# --- response (API) patches --------------------------------------------------------


def _response_subscribe(self):
    result = _orig["response_subscribe"](self)
    sub = self.backend.subscriptions.get(result.result["SubscriptionArn"])
    if sub is not None and _pending(sub) and not _is_true(self._get_param("ReturnSubscriptionArn")):
        return ActionResult({"SubscriptionArn": "pending confirmation"})
    return result


def _response_confirm_subscription(self):
    topic_arn = self._get_param("TopicArn") or ""
    token = self._get_param("Token") or ""
    try:
        backend = sns_backends[topic_arn.split(":")[4]][_region(topic_arn)]
    except (IndexError, KeyError):
        raise SNSInvalidParameter("Invalid parameter: TopicArn")
    if topic_arn not in backend.topics:
        raise SNSNotFoundError("Topic does not exist")
    sub, resubscribe = _tokens.get(token, (None, False))
    if sub is None:
        raise SNSInvalidParameter("Invalid parameter: Token")
    if sub.topic.arn != topic_arn:
        raise SNSInvalidParameter("Invalid parameter: Topic")
    owner = sns_backends[sub.account_id][_region(topic_arn)]
    if resubscribe:  # SubscribeURL of an UnsubscribeConfirmation: restore the subscription
        sub = owner._find_subscription(topic_arn, sub.endpoint, sub.protocol) or sub
        owner.subscriptions.setdefault(sub.arn, sub)
    elif sub.arn not in owner.subscriptions:
        raise SNSInvalidParameter("Invalid parameter: Token")
    if _pending(sub):
        sub.attributes.update(
            PendingConfirmation=False,
            ConfirmationWasAuthenticated=bool(self.headers.get("Authorization")),
        )
        log.info("Subscription %s confirmed", sub.arn)
    return ActionResult({"SubscriptionArn": sub.arn})


def _response_get_topic_attributes(self):
    result = _orig["response_get_topic_attributes"](self)
    topic = self.backend.get_topic(self._get_param("TopicArn"))
    version = getattr(topic, "signature_version", None)
    if version:
        result.result["Attributes"]["SignatureVersion"] = str(version)
    return result


def _serve_pem(request, full_url, headers):
    if full_url.split("?")[0].rsplit("/", 1)[-1] == signing.CERT_NAME:
        return 200, {"Content-Type": "application/x-pem-file"}, signing.CERT_PEM
    return 404, {}, b"Not Found"


# --- routing of unsigned requests --------------------------------------------------

_PEM_PATH = re.compile(r"/SimpleNotificationService-[^/]+\.pem")


def _infer_service_region_host(self, environ, path):
    """moto routes requests without an Authorization header by body/path heuristics and
    falls back to S3; send the unsigned SubscribeURL GET and the cert GET to SNS instead."""
    if not environ.get("HTTP_AUTHORIZATION") and environ.get("REQUEST_METHOD") == "GET":
        action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
        if action == ["ConfirmSubscription"] or _PEM_PATH.fullmatch(path):
            return "sns.us-east-1.amazonaws.com"
    return _orig["infer_service_region_host"](self, environ, path)


# --- entry point -------------------------------------------------------------------


def apply(base_url: str, autoconfirm: bool = False, time_scale: float = 1.0) -> None:
    global _base_url, _autoconfirm, _time_scale
    if _orig:
        return
    _base_url, _autoconfirm, _time_scale = base_url.rstrip("/"), autoconfirm, time_scale

    def patch(key, cls, name, func):
        _orig[key] = getattr(cls, name)
        setattr(cls, name, func)

    patch("publish", Subscription, "publish", _subscription_publish)
    patch("get_post_data", Subscription, "get_post_data", _get_post_data)
    # ListSubscriptions* show "PendingConfirmation" instead of the ARN, like AWS.
    Subscription.subscription_arn = property(
        lambda sub: "PendingConfirmation" if _pending(sub) else sub.arn
    )
    patch("subscribe", SNSBackend, "subscribe", _backend_subscribe)
    patch("unsubscribe", SNSBackend, "unsubscribe", _backend_unsubscribe)
    patch("create_topic", SNSBackend, "create_topic", _backend_create_topic)
    patch("set_topic_attribute", SNSBackend, "set_topic_attribute", _backend_set_topic_attribute)
    patch("response_subscribe", SNSResponse, "subscribe", _response_subscribe)
    patch("response_confirm_subscription", SNSResponse, "confirm_subscription",
          _response_confirm_subscription)
    patch("response_get_topic_attributes", SNSResponse, "get_topic_attributes",
          _response_get_topic_attributes)
    patch("serve_pem", SNSResponse, "serve_pem", staticmethod(_serve_pem))
    # moto.sns.urls captured the original serve_pem function at import time.
    for path, handler in list(sns_urls.url_paths.items()):
        if handler is _orig["serve_pem"]:
            sns_urls.url_paths[path] = _serve_pem
    patch("infer_service_region_host", DomainDispatcherApplication,
          "infer_service_region_host", _infer_service_region_host)
