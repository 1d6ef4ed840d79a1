"""Monkeypatches that give moto 5.2.5's SES/SESv2 configuration-set event publishing like AWS.

SESv2 API (state lives on moto's backends, so moto's reset clears it):
- Create/Get/Update/DeleteConfigurationSetEventDestination(s), stored as cfn_patches expects;
- PutEmailIdentityConfigurationSetAttributes (GetEmailIdentity returns ConfigurationSetName);
- GetAccount: sandbox quota (200/day, 1/s) unless switched to production (50000/day, 14/s), and
  SendingEnabled as PutAccountSendingAttributes (v1: UpdateAccountSendingEnabled) left it; while
  it is off, sends fail (v2 SendingPausedException, v1 AccountSendingPausedException);
- GetConfigurationSet: SendingOptions.SendingEnabled is a boolean (moto nests an object);
- operations on the paths current SDKs use (sesv2_routes), e.g. GET /v2/email/configuration-sets;
- identities are verified for sending on creation (VerifiedForSendingStatus true);
- ListEmailIdentities pages on the current SDKs' GET (PageSize in the query string) and refuses a
  NextToken it did not give out with BadRequestException, its only 400 in AWS (moto: InvalidToken).

Event publishing (https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html):
SESv2 SendEmail and v1 SendEmail/SendRawEmail with a configuration set (explicit or the identity's
default) publish Send, then Delivery/Bounce/Complaint per recipient (mailbox simulator addresses
bounce/complain like AWS's) to every enabled event destination matching the event type: an SNS
destination through SNS's normal Publish path, an EventBridge destination (only the account's
default bus in the set's region, as AWS allows: "Only the default bus is supported") as an
`aws.ses` event on that bus (https://docs.aws.amazon.com/ses/latest/dg/monitoring-eventbridge.html):
detail-type by event type (DETAIL_TYPES), detail the same document SNS gets, resources the
configuration set's ARN. A change of the account's sending status publishes `Sending Status
Enabled`/`Disabled` there too.

Emulator-only endpoints (unsigned JSON POSTs):
- /_trackses/ses/account    {"account_id"?, "region", "production": bool} -> GetAccount-like JSON
- /_trackses/ses/engagement {"message_id", "type": "open"|"click", "link"?, "link_tags"?}
                            -> publishes an Open/Click event for a message sent with a set
- /_trackses/ses/advisor    {"account_id"?, "region", "status": "open"|"resolved", "type"?,
                             "impact"?, "description"?, "resource_arn"?}
                            -> an `Advisor Recommendation Status Open/Resolved` event on the
                               account's default bus -> {"id", "detail-type"}
and one unsigned GET:
- /_trackses/ses/outbox?account=<12 digits>&region=<region>
                            -> {"messages": [{"message_id", "source", "destinations", "subject",
                               "text", "html", "sent_at"}]}: what SES accepted from that account
                               and region (v1 SendEmail/SendRawEmail, v2 SendEmail), oldest first
"""

import base64
import email
import email.policy
import json
import logging
import re
import threading
import uuid
from datetime import datetime, timedelta, timezone
from email.utils import formataddr, getaddresses, parseaddr
from urllib.parse import unquote, urlparse

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import InvalidToken, JsonRESTError
from moto.core.responses import ActionResult, EmptyResult
from moto.iam.models import iam_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.ses.exceptions import ConfigurationSetDoesNotExist, NotFoundException, SesError
from moto.ses.models import ConfigurationSet, EmailIdentity, SESBackend, ses_backends
from moto.ses.responses import EmailResponse
from moto.sesv2 import urls as sesv2_urls
from moto.sesv2.models import sesv2_backends
from moto.sesv2.responses import SESV2Response
from moto.sns.models import sns_backends
from moto.utilities.utils import get_partition

from . import events_patches, sesv2_routes

log = logging.getLogger("trackses_emulator.ses")

SUBJECT = "Amazon SES Email Event Notification"
EVENT_TYPES = {"SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "OPEN", "CLICK",
               "RENDERING_FAILURE", "DELIVERY_DELAY", "SUBSCRIPTION"}  # MatchingEventTypes
SANDBOX_QUOTA = (200.0, 1.0)  # Max24HourSend, MaxSendRate
PRODUCTION_QUOTA = (50000.0, 14.0)
SIMULATOR = "simulator.amazonses.com"
OUTGOING_IP, REMOTE_MTA_IP = "54.240.7.18", "198.51.100.25"  # documentation addresses
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0"
CLIENT_IP = "192.0.2.44"
# EventBridge detail-type of each SES event type (monitoring-eventbridge.html, "SES events").
DETAIL_TYPES = {"Send": "Email Sent", "Delivery": "Email Delivered", "Bounce": "Email Bounced",
                "Complaint": "Email Complaint Received", "Reject": "Email Rejected",
                "Open": "Email Opened", "Click": "Email Clicked",
                "Rendering Failure": "Email Rendering Failed",
                "DeliveryDelay": "Email Delivery Delayed", "Subscription": "Email Subscribed"}
ADVISOR_DETAIL_TYPES = {"open": "Advisor Recommendation Status Open",
                        "resolved": "Advisor Recommendation Status Resolved"}
_EVENT_BUS = re.compile(r"arn:aws[a-z0-9-]*:events:([a-z0-9-]+):(\d{12}):event-bus/(.+)")

_orig: dict = {}
_sent: dict[str, dict] = {}  # SES MessageId -> {account, region, config_set, mail}
_sent_lock = threading.Lock()
_outbox_lock = threading.Lock()  # the outboxes' order is the order of sent_at
_ACCOUNT = re.compile(r"[0-9]{12}")


class AlreadyExistsException(JsonRESTError):
    code = 400

    def __init__(self, message):
        super().__init__("AlreadyExistsException", message)


class BadRequestException(JsonRESTError):
    code = 400

    def __init__(self, message):
        super().__init__("BadRequestException", message)


class ConfigurationSetSendingPaused(SesError):  # v1 (query API) error
    code = "ConfigurationSetSendingPausedException"


class AccountSendingPaused(SesError):  # v1 (query API) error
    code = "AccountSendingPausedException"


class SendingPausedException(JsonRESTError):
    code = 400

    def __init__(self, message):
        super().__init__("SendingPausedException", message)


# --- helpers -------------------------------------------------------------------------


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _feedback_id() -> str:
    return f"{uuid.uuid4().hex[:16]}-{uuid.uuid4()}-000000"


def _address(value: str) -> str:
    return parseaddr(value)[1]


def event_destinations(account_id: str, region: str) -> dict[str, list[dict]]:
    """{configuration set name: [EventDestination in SESv2 API shape]}, kept on the SESv2 backend
    (the same contract cfn_patches uses for AWS::SES::ConfigurationSetEventDestination)."""
    backend = sesv2_backends[account_id][region]
    if not hasattr(backend, "event_destinations"):
        backend.event_destinations = {}
    return backend.event_destinations


def _set_destinations(resp) -> tuple[str, list[dict]]:
    """(name, destinations) of the request's configuration set, NotFoundException if unknown."""
    name = resp._get_param("ConfigurationSetName")
    _v2_config_set(resp.sesv2_backend.core_backend, name)
    return name, event_destinations(resp.current_account, resp.region).setdefault(name, [])


def _find(dests: list[dict], name: str) -> int:
    for i, dest in enumerate(dests):
        if dest["Name"] == name:
            return i
    raise NotFoundException(f"Event destination {name} does not exist.")


def _sending_enabled(config_set: ConfigurationSet) -> bool:
    value = config_set.enabled  # moto keeps the whole SendingOptions object here (or {})
    if isinstance(value, dict):
        value = value.get("SendingEnabled", True)
    return value is not False


def _production(backend: SESBackend) -> bool:
    return getattr(backend, "trackses_production", False)


def _account_sending(backend: SESBackend) -> bool:
    return getattr(backend, "trackses_sending_enabled", True)


def _set_account_sending(backend: SESBackend, enabled: bool) -> None:
    """Enable or pause the account's sending; a change is published to its default bus."""
    if enabled == _account_sending(backend):
        return
    backend.trackses_sending_enabled = enabled
    events_patches.put_aws_event(
        backend.account_id, backend.region_name, "aws.ses",
        f"Sending Status {'Enabled' if enabled else 'Disabled'}", _sending_status(enabled), [])


def _sending_status(enabled: bool) -> dict:
    """The detail of a Sending Status event. AWS documents it only for tenants (SES Developer
    Guide, "Tenants" > "Setting up EventBridge notifications": resources the tenant's ARN, this
    detail); the account's own status is given the same detail, with no resource (an account
    has no SES ARN). The owner's PutAccountSendingAttributes is the CUSTOMER_MANAGED origin;
    lastUpdatedTimestamp is a Java date-time array, nanoseconds last."""
    now = _now()
    return {"version": "1.0.0", "data": {
        "origin": "CUSTOMER_MANAGED",
        "record": {"status": "ENABLED" if enabled else "DISABLED",
                   "cause": "Status manually updated.",
                   "lastUpdatedTimestamp": [now.year, now.month, now.day, now.hour, now.minute,
                                            now.second, now.microsecond * 1000]},
    }}


def _account(backend: SESBackend) -> dict:
    max_day, max_rate = PRODUCTION_QUOTA if _production(backend) else SANDBOX_QUOTA
    return {
        "DedicatedIpAutoWarmupEnabled": False,
        "EnforcementStatus": "HEALTHY",
        "ProductionAccessEnabled": _production(backend),
        "SendQuota": {
            "Max24HourSend": max_day,
            "MaxSendRate": max_rate,
            "SentLast24Hours": float(backend.sent_message_count),
        },
        "SendingEnabled": _account_sending(backend),
        "SuppressionAttributes": {"SuppressedReasons": ["BOUNCE", "COMPLAINT"]},
    }


def _v2_config_set(backend: SESBackend, name: str) -> ConfigurationSet:
    if name not in backend.config_sets:
        raise NotFoundException(f"Configuration set <{name}> does not exist.")
    return backend.config_sets[name]


def _event_destination(name: str, definition, account: str, region: str) -> dict:
    definition = definition or {}
    types = definition.get("MatchingEventTypes") or []
    if not types or any(t not in EVENT_TYPES for t in types):
        raise BadRequestException(f"Invalid MatchingEventTypes: {types}")
    dest = {"Name": name, "Enabled": definition.get("Enabled") is True,
            "MatchingEventTypes": list(dict.fromkeys(types))}
    for key, value in definition.items():
        if key.endswith("Destination"):
            dest[key] = value
    problem = eventbridge_destination_problem(dest, account, region)
    if problem:  # "The input you provided is invalid"
        raise BadRequestException(problem)
    return dest


def eventbridge_destination_problem(dest: dict, account: str, region: str) -> str | None:
    """Why SES would refuse the destination's bus, or None: SES publishes only to the default
    bus ("Only the default bus is supported"), the sending account's in the set's region."""
    if "EventBridgeDestination" not in dest:
        return None
    bus = (dest["EventBridgeDestination"] or {}).get("EventBusArn")
    match = _EVENT_BUS.fullmatch(str(bus))
    if match and match.groups() == (region, account, "default"):
        return None
    return (f"Invalid EventBusArn {bus}: only the default event bus of account {account} in "
            f"{region} is supported.")


# --- SESv2 operations (methods added to SESV2Response) -------------------------------


def create_configuration_set_event_destination(self):
    _, dests = _set_destinations(self)
    name = self._get_param("EventDestinationName")
    if any(d["Name"] == name for d in dests):
        raise AlreadyExistsException(f"Event destination {name} already exists.")
    dests.append(_event_destination(name, self._get_param("EventDestination"),
                                    self.current_account, self.region))
    return "{}"


def get_configuration_set_event_destinations(self):
    return json.dumps({"EventDestinations": _set_destinations(self)[1]})


def update_configuration_set_event_destination(self):
    _, dests = _set_destinations(self)
    name = self._get_param("EventDestinationName")
    dests[_find(dests, name)] = _event_destination(name, self._get_param("EventDestination"),
                                                   self.current_account, self.region)
    return "{}"


def delete_configuration_set_event_destination(self):
    _, dests = _set_destinations(self)
    del dests[_find(dests, self._get_param("EventDestinationName"))]
    return "{}"


def put_email_identity_configuration_set_attributes(self):
    identity = self.sesv2_backend.get_email_identity(self._get_param("EmailIdentity"))
    name = self._get_param("ConfigurationSetName")
    if name:
        _v2_config_set(self.sesv2_backend.core_backend, name)
    identity.configuration_set_name = name or None
    return "{}"


def get_account(self):
    return json.dumps(_account(self.sesv2_backend.core_backend))


def put_account_sending_attributes(self):
    _set_account_sending(self.sesv2_backend.core_backend,  # omitted counts as false
                         self._get_param("SendingEnabled") is True)
    return "{}"


def update_account_sending_enabled(self):  # SES v1 (query API)
    _set_account_sending(self.backend, self._get_bool_param("Enabled", False))
    return EmptyResult()


def get_account_sending_enabled(self):  # SES v1 (query API)
    return ActionResult({"Enabled": _account_sending(self.backend)})


def list_email_identities(self):
    page_size = self._get_param("PageSize")  # a string from GET /v2/email/identities?PageSize=
    try:
        page_size = int(page_size) if page_size is not None else None
    except ValueError:
        raise BadRequestException(f"Invalid PageSize: {page_size}") from None
    try:
        identities, next_token = self.sesv2_backend.list_email_identities(
            next_token=self._get_param("NextToken"), page_size=page_size)
    except InvalidToken as exc:
        raise BadRequestException(f"Invalid NextToken: {exc.message}") from exc
    return json.dumps({"EmailIdentities": [i.list_response_object for i in identities],
                       "NextToken": next_token})


def _to_dict_v2(self):
    result = _orig["to_dict_v2"](self)
    result["SendingOptions"] = {"SendingEnabled": _sending_enabled(self)}
    return result


def _delete_configuration_set(self, configuration_set_name):  # destinations go with the set
    _orig["delete_configuration_set"](self, configuration_set_name)
    event_destinations(self.account_id, self.region_name).pop(configuration_set_name, None)


def _get_send_quota(self):  # v1 GetSendQuota follows the same sandbox/production switch
    quota = _orig["get_send_quota"](self)
    quota.max24_hour_send, quota.max_send_rate = (
        PRODUCTION_QUOTA if _production(self) else SANDBOX_QUOTA
    )
    return quota


# --- sending: collect the request, then publish events in the background ------------


def _sesv2_send_params(resp) -> dict:
    body = json.loads(resp.body or "{}")
    dest = body.get("Destination") or {}
    content = body.get("Content") or {}
    simple = content.get("Simple") or {}
    return {
        "operation": "SendEmail",
        "config_set": body.get("ConfigurationSetName"),
        "tags": body.get("EmailTags") or [],
        "reply_to": body.get("ReplyToAddresses") or [],
        "to": dest.get("ToAddresses") or [], "cc": dest.get("CcAddresses") or [],
        "subject": (simple.get("Subject") or {}).get("Data"),
        "html": "Html" in (simple.get("Body") or {}),
        "text_body": ((simple.get("Body") or {}).get("Text") or {}).get("Data"),
        "html_body": ((simple.get("Body") or {}).get("Html") or {}).get("Data"),
        "raw": base64.b64decode(content["Raw"]["Data"]) if "Raw" in content else None,
        "source": body.get("FromEmailAddress"),
    }


def _ses_send_params(resp, operation) -> dict:
    dest = resp._get_param("Destination") or {}
    return {
        "operation": operation,
        "config_set": resp._get_param("ConfigurationSetName"),
        "tags": resp._get_param("Tags") or [],
        "reply_to": resp._get_param("ReplyToAddresses") or [],
        "to": dest.get("ToAddresses") or [], "cc": dest.get("CcAddresses") or [],
        "subject": resp._get_param("Message.Subject.Data"),
        "html": resp._get_param("Message.Body.Html.Data") is not None,
        "text_body": resp._get_param("Message.Body.Text.Data"),
        "html_body": resp._get_param("Message.Body.Html.Data"),
        "raw": resp._get_param("RawMessage.Data") if operation == "SendRawEmail" else None,
        "source": resp._get_param("Source"),
    }


def _identity_for(backend: SESBackend, source: str):
    """The identity that authorises `source`: the address itself, else its domain."""
    for name in (source, source.rsplit("@", 1)[-1]):
        if name in backend.email_identities:
            return backend.email_identities[name]
    return None


def _caller_identity(resp) -> str:
    try:
        iam = iam_backends[resp.current_account][get_partition(resp.region)]
        user = iam.get_user_from_access_key_id(resp.get_access_key())
        return user.name if user else "root"
    except Exception:  # noqa: BLE001 - only a tag value
        return "root"


def _mail_headers(p, message_id, source_header, date) -> list[tuple[str, str]]:
    if p["raw_message"] is not None:
        return list(p["raw_message"].items())
    headers = [("From", source_header)]
    if p["reply_to"]:
        headers.append(("Reply-To", ", ".join(p["reply_to"])))
    if p["to"]:
        headers.append(("To", ", ".join(p["to"])))
    if p["cc"]:
        headers.append(("CC", ", ".join(p["cc"])))
    headers += [
        ("Subject", p["subject"] or ""),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/html; charset=UTF-8" if p["html"] else "text/plain; charset=UTF-8"),
        ("Message-ID", f"<{message_id}@email.amazonses.com>"),
        ("Date", date.strftime("%a, %d %b %Y %H:%M:%S +0000")),
    ]
    return headers


def _mail_object(resp, backend, p, message, config_set, sent_at) -> dict:
    source_header = p["source"]
    source = _address(source_header)
    identity = _identity_for(backend, source)
    headers = _mail_headers(p, message.id, source_header, sent_at)
    by_name = {}
    for name, value in headers:
        by_name.setdefault(name.lower(), []).append(str(value))
    common = {}
    for key, header in (("from", "from"), ("replyTo", "reply-to"), ("to", "to"), ("cc", "cc")):
        if header in by_name:
            common[key] = [formataddr(pair) for pair in getaddresses(by_name[header])]
    if "date" in by_name:
        common["date"] = by_name["date"][0]
    common["messageId"] = message.id
    if "subject" in by_name:
        common["subject"] = by_name["subject"][0]
    tags = {
        "ses:operation": [p["operation"]],
        "ses:configuration-set": [config_set],
        "ses:source-ip": [resp.normalized_request.remote_addr or "127.0.0.1"],
        "ses:from-domain": [source.rsplit("@", 1)[-1]],
        "ses:caller-identity": [_caller_identity(resp)],
    }
    for tag in p["tags"]:
        tags.setdefault(tag["Name"], []).append(tag.get("Value", ""))
    return {
        "timestamp": _iso(sent_at),
        "source": source,
        "sourceArn": f"arn:aws:ses:{resp.region}:{resp.current_account}:identity/"
                     f"{identity.email_identity if identity else source}",
        "sendingAccountId": resp.current_account,
        "messageId": message.id,
        "destination": p["recipients"],
        "headersTruncated": False,
        "headers": [{"name": k, "value": str(v)} for k, v in headers],
        "commonHeaders": common,
        "tags": tags,
    }


def _recipients(message) -> list[str]:
    dests = message.destinations
    if isinstance(dests, dict):
        dests = [a for key in ("ToAddresses", "CcAddresses", "BccAddresses")
                 for a in dests.get(key, [])]
    return list(dict.fromkeys(_address(a) for a in dests if _address(a)))


def _outbox(backend: SESBackend) -> list[dict]:
    """Every message the backend's account and region sent, oldest first. Kept on the backend,
    so moto's reset empties it; moto's own sent_messages keep only one body of a message."""
    if not hasattr(backend, "trackses_outbox"):
        backend.trackses_outbox = []
    return backend.trackses_outbox


def _mime_parts(raw: bytes) -> tuple[str | None, str | None, str | None]:
    """(subject, text/plain, text/html) of a raw message, decoded (encoded words, charsets,
    transfer encodings) as a mail client shows them; attachments are not bodies. Lines end in
    LF: CRLF is only how a raw message must travel (RFC 5322), not part of its text."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    subject = message["Subject"]
    text, html = (_text(message.get_body(preferencelist=(kind,))) for kind in ("plain", "html"))
    return (str(subject) if subject is not None else None), text, html


def _text(part) -> str | None:
    if part is None:
        return None
    try:
        text = part.get_content()
    except LookupError:  # a charset Python does not know: SES sends it anyway
        text = part.get_payload(decode=True).decode("utf-8", "replace")
    return text.replace("\r\n", "\n")


def _record_sent(backend: SESBackend, p: dict, message) -> datetime:
    """Put the accepted message in its account's and region's outbox; returns its send time."""
    if p["raw"] is not None:
        subject, text, html = _mime_parts(p["raw"])
    else:
        subject, text, html = p["subject"], p["text_body"], p["html_body"]
    with _outbox_lock:
        sent_at = _now()
        _outbox(backend).append({
            "message_id": message.id, "source": _address(p["source"]),
            "destinations": p["recipients"], "subject": subject, "text": text, "html": html,
            "sent_at": _iso(sent_at),
        })
    return sent_at


def _resolve_config_set(backend, p, v2: bool):
    """The configuration set a send uses: explicit, else the identity's default (may be None)."""
    name = p["config_set"]
    if name:
        if name not in backend.config_sets:
            if v2:
                raise NotFoundException(f"Configuration set <{name}> does not exist.")
            raise ConfigurationSetDoesNotExist(f"Configuration set <{name}> does not exist.")
    else:
        identity = _identity_for(backend, _address(p["source"]))
        name = identity.configuration_set_name if identity else None
        if name not in backend.config_sets:
            return None
    if not _sending_enabled(backend.config_sets[name]):
        if v2:
            raise SendingPausedException(f"Sending is paused for configuration set {name}.")
        raise ConfigurationSetSendingPaused(f"Sending is paused for configuration set {name}.")
    return name


def _wrap_send(key, params, v2: bool):
    def send(self):
        p = params(self)
        backend = ses_backends[self.current_account][self.region]
        p["raw_message"] = email.message_from_bytes(p["raw"]) if p["raw"] is not None else None
        if not p["source"] and p["raw_message"] is not None:
            p["source"] = p["raw_message"].get("From", "")
        p["source"] = p["source"] or ""
        if not _account_sending(backend):
            paused = SendingPausedException if v2 else AccountSendingPaused
            raise paused("Email sending is paused for this account.")
        config_set = _resolve_config_set(backend, p, v2)
        result = _orig[key](self)
        message_id = json.loads(result)["MessageId"] if v2 else result.result["MessageId"]
        message = next(m for m in reversed(backend.sent_messages)
                       if getattr(m, "id", None) == message_id)
        p["recipients"] = _recipients(message)
        sent_at = _record_sent(backend, p, message)
        if config_set is None:
            return result
        mail = _mail_object(self, backend, p, message, config_set, sent_at)
        record = {"account": self.current_account, "region": self.region,
                  "config_set": config_set, "mail": mail}
        with _sent_lock:
            _sent[message_id] = record
        threading.Thread(target=_publish_outcome, args=(record, sent_at), daemon=True).start()
        return result

    return send


# --- events ----------------------------------------------------------------------------


def _event(record, event_type, key, detail, delivered=False) -> dict:
    mail = json.loads(json.dumps(record["mail"]))
    if delivered:  # AWS adds the outgoing connection's tags once the mail left SES
        mail["tags"]["ses:outgoing-ip"] = [OUTGOING_IP]
        mail["tags"]["ses:outgoing-tls-version"] = ["TLSv1.3"]
    if key in ("bounce", "complaint", "click"):  # field order as in AWS's samples
        return {"eventType": event_type, key: detail, "mail": mail}
    return {"eventType": event_type, "mail": mail, key: detail}


def _publish(record, matching_type: str, event: dict) -> int:
    """Publish one event to the enabled destinations of the record's configuration set."""
    if record["config_set"] not in ses_backends[record["account"]][record["region"]].config_sets:
        return 0
    count = 0
    dests = event_destinations(record["account"], record["region"]).get(record["config_set"], [])
    for dest in list(dests):
        if not dest.get("Enabled") or matching_type not in dest["MatchingEventTypes"]:
            continue
        try:
            count += _deliver(record, dest, event)
        except Exception as exc:  # noqa: BLE001 - a broken destination must not stop others
            log.warning("%s event for %s not published to %s: %s",
                        event["eventType"], event["mail"]["messageId"], dest["Name"], exc)
    return count


def _deliver(record, dest: dict, event: dict) -> bool:
    """Publish to one destination; False for kinds the emulator does not deliver to."""
    topic_arn = (dest.get("SnsDestination") or {}).get("TopicArn")
    if topic_arn:
        _, _, _, region, account, _ = topic_arn.split(":", 5)
        sns_backends[account][region].publish(json.dumps(event, separators=(",", ":")),
                                              arn=topic_arn, subject=SUBJECT)
        return True
    if "EventBridgeDestination" in dest:
        account, region = record["account"], record["region"]
        set_arn = (f"arn:{get_partition(region)}:ses:{region}:{account}:"
                   f"configuration-set/{record['config_set']}")
        events_patches.put_aws_event(account, region, "aws.ses",
                                     DETAIL_TYPES[event["eventType"]], event, [set_arn])
        return True
    return False


def _outcome(recipient: str) -> str:
    local, _, domain = recipient.lower().partition("@")
    if domain != SIMULATOR:
        return "success"
    return {"bounce": "bounce", "complaint": "complaint",
            "suppressionlist": "suppressionlist"}.get(local.split("+")[0], "success")


def _publish_outcome(record, sent_at: datetime) -> None:
    region = record["region"]
    mta = f"a8-{uuid.uuid4().int % 90 + 10}.smtp-out.{region}.amazonses.com"
    _publish(record, "SEND", _event(record, "Send", "send", {}))
    complaints = []
    for rcpt in record["mail"]["destination"]:
        outcome = _outcome(rcpt)
        now = _now()
        if outcome in ("success", "complaint"):
            _publish(record, "DELIVERY", _event(record, "Delivery", "delivery", {
                "timestamp": _iso(now),
                "processingTimeMillis": int((now - sent_at).total_seconds() * 1000),
                "recipients": [rcpt],
                "smtpResponse": "250 2.6.0 Message received",
                "reportingMTA": mta,
                "remoteMtaIp": REMOTE_MTA_IP,
            }, delivered=True))
            if outcome == "complaint":
                complaints.append(rcpt)
        elif outcome == "bounce":
            _publish(record, "BOUNCE", _event(record, "Bounce", "bounce", {
                "feedbackId": _feedback_id(),
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "bouncedRecipients": [{
                    "emailAddress": rcpt, "action": "failed", "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }],
                "timestamp": _iso(now),
                "reportingMTA": f"dns; {mta}",
                "remoteMtaIp": REMOTE_MTA_IP,
            }, delivered=True))
        else:  # on the account-level suppression list: SES does not even try
            _publish(record, "BOUNCE", _event(record, "Bounce", "bounce", {
                "feedbackId": _feedback_id(),
                "bounceType": "Permanent",
                "bounceSubType": "OnAccountSuppressionList",
                "bouncedRecipients": [{
                    "emailAddress": rcpt, "action": "failed", "status": "5.1.1",
                    "diagnosticCode": "Amazon SES did not send the message to this address "
                                      "because it is on the suppression list for your account.",
                }],
                "timestamp": _iso(now),
                "reportingMTA": "dns; amazonses.com",
            }))
    for rcpt in complaints:
        now = _now()
        _publish(record, "COMPLAINT", _event(record, "Complaint", "complaint", {
            "feedbackId": _feedback_id(),
            "complaintSubType": None,
            "complainedRecipients": [{"emailAddress": rcpt}],
            "timestamp": _iso(now),
            "userAgent": "Amazon SES Mailbox Simulator",
            "complaintFeedbackType": "abuse",
            "arrivalDate": _iso(now),
        }, delivered=True))


# --- emulator-only endpoints --------------------------------------------------------------


def _json_response(status: int, body: dict):
    return status, {"Content-Type": "application/json"}, json.dumps(body)


def _control(request, full_url, headers):
    try:
        body = json.loads(request.get_data() or b"{}")
    except ValueError:
        return _json_response(400, {"message": "body must be JSON"})
    if request.method != "POST" or not isinstance(body, dict):
        return _json_response(400, {"message": "POST a JSON object"})
    if request.path.endswith("/account"):
        if not body.get("region"):
            return _json_response(400, {"message": "region is required"})
        backend = ses_backends[str(body.get("account_id") or DEFAULT_ACCOUNT_ID)][body["region"]]
        backend.trackses_production = body.get("production") is True
        return _json_response(200, _account(backend))
    if request.path.endswith("/advisor"):
        return _advisor(body)
    return _engagement(body)


def _outbox_route(request, full_url, headers):
    """GET ?account=&region= -> what SES accepted from that account and region. Both are
    required: a test must name the sender it reads, never get every account's mail."""
    if request.method != "GET":
        return 405, {"Allow": "GET", "Content-Type": "application/json"}, json.dumps(
            {"message": "GET ?account=<12 digits>&region=<region>"})
    account, region = request.args.get("account", ""), request.args.get("region", "")
    if not _ACCOUNT.fullmatch(account):
        return _json_response(400, {"message": "account must be a 12-digit account id"})
    if not region or region not in ses_backends[account]:  # SES's regions (moto's list)
        return _json_response(400, {"message": f"unknown region {region!r}"})
    # dict.get, not [...]: reading must not create the region's backend.
    backend = dict.get(ses_backends[account], region)
    with _outbox_lock:
        messages = list(_outbox(backend)) if backend is not None else []
    return _json_response(200, {"messages": messages})


def _advisor(body: dict):
    """A Virtual Deliverability Manager advisor event, in the detail shape AWS documents (SES
    Developer Guide, "Tenants" > "Setting up EventBridge notifications", the reputation-finding
    example: version, the recommendation's text as data, its impact and type as metadata); the
    resource is the one the recommendation concerns (ListRecommendations' ResourceArn)."""
    detail_type = ADVISOR_DETAIL_TYPES.get(body.get("status"))
    if detail_type is None or not body.get("region"):
        return _json_response(400, {"message": 'region and status "open"|"resolved" are required'})
    account, region = str(body.get("account_id") or DEFAULT_ACCOUNT_ID), body["region"]
    resource = (body.get("resource_arn")
                or f"arn:{get_partition(region)}:ses:{region}:{account}:identity/example.com")
    detail = {"version": "1.0.0",
              "data": body.get("description") or "DMARC is not configured for example.com.",
              "metadata": {"impact": body.get("impact") or "HIGH",
                           "type": body.get("type") or "DMARC"}}
    event = events_patches.put_aws_event(account, region, "aws.ses", detail_type, detail,
                                         [resource])
    return _json_response(200, {"id": event["id"], "detail-type": detail_type})


def _later_event(record, kind: str, body: dict, now: str):
    """(MatchingEventTypes name, event) of what SES reports after a send, in the shapes of AWS's
    "Examples of event data that Amazon SES publishes to Amazon SNS"; None for an unknown kind.
    Reject and Rendering Failure replace a send in AWS (a virus, a template missing data); here
    they are reported for a sent message, which is all a test of their delivery needs."""
    later = datetime.fromisoformat(now.replace("Z", "+00:00")) + timedelta(hours=23)
    details = {
        "open": ("OPEN", "Open", "open",
                 {"timestamp": now, "userAgent": USER_AGENT, "ipAddress": CLIENT_IP}),
        "click": ("CLICK", "Click", "click", {
            "timestamp": now, "ipAddress": CLIENT_IP, "userAgent": USER_AGENT,
            "link": body.get("link") or "https://example.com/",
            "linkTags": body.get("link_tags") or {},
        }),
        "reject": ("REJECT", "Reject", "reject", {"reason": "Bad content"}),
        "renderingFailure": ("RENDERING_FAILURE", "Rendering Failure", "failure", {
            "errorMessage": "Attribute 'name' is not present in the rendering data.",
            "templateName": "trackses-emulator-template",
        }),
        "deliveryDelay": ("DELIVERY_DELAY", "DeliveryDelay", "deliveryDelay", {
            "timestamp": now, "delayType": "TransientCommunicationFailure",
            "expirationTime": _iso(later),
            "delayedRecipients": [{
                "emailAddress": address, "status": "4.4.1",
                "diagnosticCode": "smtp; 421 4.4.1 Unable to connect to remote host",
            } for address in record["mail"]["destination"]],
            "reportingMTA": f"a8-10.smtp-out.{record['region']}.amazonses.com",
        }),
        "subscription": ("SUBSCRIPTION", "Subscription", "subscription", {
            "contactList": "trackses-emulator-list", "timestamp": now,
            "source": "UnsubscribeHeader",
            "newTopicPreferences": {"unsubscribeAll": True, "topicSubscriptionStatus": {}},
            "oldTopicPreferences": {"unsubscribeAll": False, "topicSubscriptionStatus": {}},
        }),
    }
    if kind not in details:
        return None
    matching, event_type, key, detail = details[kind]
    return matching, _event(record, event_type, key, detail)


def _engagement(body: dict):
    with _sent_lock:
        record = _sent.get(str(body.get("message_id")))
    if record is None:
        return _json_response(404, {"message": f"unknown message_id {body.get('message_id')}"})
    found = _later_event(record, str(body.get("type")), body, _iso(_now()))
    if found is None:
        return _json_response(400, {"message": "type must be open, click, reject, "
                                               "renderingFailure, deliveryDelay or subscription"})
    matching, event = found
    published = _publish(record, matching, event)
    return _json_response(200, {"eventType": event["eventType"], "published": published})


_SESV2_PATHS = (
    "/v2/email/account",
    "/v2/email/account/sending",
    "/v2/email/configuration-sets/(?P<ConfigurationSetName>[^/]+)/event-destinations",
    "/v2/email/configuration-sets/(?P<ConfigurationSetName>[^/]+)/event-destinations/"
    "(?P<EventDestinationName>[^/]+)",
    "/v2/email/identities/(?P<EmailIdentity>[^/]+)/configuration-set",
)
_CONTROL_ROUTES = {"/_trackses/ses/account": _control, "/_trackses/ses/engagement": _control,
                   "/_trackses/ses/advisor": _control, "/_trackses/ses/outbox": _outbox_route}


def _sesv2_get_action(self):
    """moto's model lacks the paths current SDKs use for some operations (GET
    /v2/email/configuration-sets, GET /v2/email/identities...)."""
    action = _orig["sesv2_get_action"](self)
    if action:
        return action
    found = sesv2_routes.operation(self.method, urlparse(self.path).path)
    if found is None:
        return None
    operation, params = found
    self.uri_match = {k: unquote(v) for k, v in params.items()}
    return operation


def _email_identity_init(self, *args, **kwargs):
    """moto reports VerificationStatus SUCCESS but VerifiedForSendingStatus false; the emulator
    verifies identities on creation (there is no verification mail), so both say verified."""
    _orig["email_identity_init"](self, *args, **kwargs)
    self.verified_for_sending_status = self.verification_status == "SUCCESS"


def _infer_service_region_host(self, environ, path):
    """Unsigned requests to the control endpoints go to the SESv2 app (where they are routed)."""
    if path.rstrip("/") in _CONTROL_ROUTES:
        return "sesv2"
    return _orig["infer_service_region_host"](self, environ, path)


# --- entry point -----------------------------------------------------------------------


def apply() -> None:
    if _orig:
        return
    for func in (create_configuration_set_event_destination,
                 get_configuration_set_event_destinations,
                 update_configuration_set_event_destination,
                 delete_configuration_set_event_destination,
                 put_email_identity_configuration_set_attributes, get_account,
                 put_account_sending_attributes, list_email_identities):
        setattr(SESV2Response, func.__name__, func)
    for func in (update_account_sending_enabled, get_account_sending_enabled):
        setattr(EmailResponse, func.__name__, func)

    def patch(key, cls, name, func):
        _orig[key] = getattr(cls, name)
        setattr(cls, name, func)

    patch("sesv2_get_action", SESV2Response, "_get_action", _sesv2_get_action)
    patch("email_identity_init", EmailIdentity, "__init__", _email_identity_init)
    patch("to_dict_v2", ConfigurationSet, "to_dict_v2", _to_dict_v2)
    patch("delete_configuration_set", SESBackend, "delete_configuration_set",
          _delete_configuration_set)
    patch("get_send_quota", SESBackend, "get_send_quota", _get_send_quota)
    patch("v2_send_email", SESV2Response, "send_email",
          _wrap_send("v2_send_email", _sesv2_send_params, v2=True))
    patch("send_email", EmailResponse, "send_email",
          _wrap_send("send_email", lambda r: _ses_send_params(r, "SendEmail"), v2=False))
    patch("send_raw_email", EmailResponse, "send_raw_email",
          _wrap_send("send_raw_email", lambda r: _ses_send_params(r, "SendRawEmail"), v2=False))
    for path in _SESV2_PATHS:  # moto's "/v2/.*" catch-all is a literal path for Flask
        sesv2_urls.url_paths["{0}" + path + "$"] = SESV2Response.dispatch
    for path, handler in _CONTROL_ROUTES.items():
        sesv2_urls.url_paths["{0}" + path + "$"] = handler
    patch("infer_service_region_host", DomainDispatcherApplication,
          "infer_service_region_host", _infer_service_region_host)
