"""Monkeypatches that make moto 5.2.5's EventBridge route events the way trackses' EventBridge
ingest path relies on (EventBridge User Guide: "Sending and receiving events between AWS
accounts", "... between AWS Regions", "... between event buses in the same account and Region",
"Permissions for event buses", "Calculating PutEvents event entry size").

Routing (Rule.send_to_targets):
- Only ENABLED rules match (moto sent to disabled rules too).
- An event-bus target, in another account or Region or not, gets the original event unchanged:
  the same id, account, region, time, source, detail-type, resources and detail (moto re-put it
  as a new event of the target's account with a new id), and the target bus's rules run on it.
  Delivered only if
  - the target's RoleArn names an existing role that trusts events.amazonaws.com (its
    aws:SourceAccount / aws:SourceArn conditions hold for the rule) and whose identity policies
    allow events:PutEvents on the target bus. Without a RoleArn only a same-Region bus of another
    account is reached (PutTargets: a role is needed unless the receiving account granted the
    sender's account directly);
  - for another account's bus, its resource policy allows events:PutEvents for the rule's
    account (Principal "*", the account id or its root ARN; events:source, events:detail-type,
    aws:SourceArn and aws:SourceAccount conditions; unknown condition keys never match);
  - the event did not itself arrive from another bus: EventBridge forwards an event once
    ("If a receiver account sets up a rule that sends events received from a sender account on
    to a third account, these events are not sent to the third account").
- An SQS target receives the event JSON as EventBridge writes it, keys in AWS's order (version,
  id, detail-type, source, account, time, region, resources, detail), `time` as
  YYYY-MM-DDTHH:MM:SSZ, if the queue's policy (when it has one) allows sqs:SendMessage to
  events.amazonaws.com for the rule (aws:SourceArn / aws:SourceAccount). Input transformers and
  FIFO queues keep moto's own delivery after that check.
- A target that is not delivered to is logged (`... not delivered: <why>`) and skipped; PutEvents
  never fails because of a target (AWS counts a FailedInvocation).

PutPermission with Principal "*" grants every account: the statement's Principal is "*", as AWS
writes it (moto wrote the root ARN of an account named "*", which grants nobody).

PutEvents API: an entry whose Source starts with `aws.` is refused
(NotAuthorizedForSourceException; only AWS services emit those, here through put_aws_event),
and a request whose entries total more than 256 KB is a ValidationException.

put_aws_event(account, region, source, detail_type, detail, resources) is how an emulated AWS
service (ses_patches) emits an event on an account's default bus.
"""

import copy
import json
import logging
import uuid
from datetime import datetime, timezone

from moto.core.utils import unix_time
from moto.events.exceptions import ValidationException
from moto.events.models import EventBus, Rule, events_backends
from moto.events.responses import EventsHandler
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from moto.sqs.models import sqs_backends
from moto.utilities.arns import parse_arn

from .sts_iam_patches import (account_principal_matches, policy_allows,
                              service_principal_matches)

log = logging.getLogger("trackses_emulator.events")

EVENTS_PRINCIPAL = "events.amazonaws.com"
AWS_SOURCE_PREFIX = "aws."
MAX_REQUEST_BYTES = 256 * 1024  # all entries of one PutEvents request, as AWS sizes them
TIME_ENTRY_BYTES = 14  # what a PutEvents entry's Time counts for
# An event as targets receive it, in EventBridge's key order.
EVENT_KEYS = ("version", "id", "detail-type", "source", "account", "time", "region",
              "resources", "detail")

_orig: dict = {}


# --- events AWS services emit ----------------------------------------------------------


def put_aws_event(account: str, region: str, source: str, detail_type: str, detail: dict,
                  resources: list[str]) -> dict:
    """An AWS service's event on the account's default bus in `region`, routed to its rules;
    the event as targets get it."""
    event = {"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type,
             "source": source, "account": account, "time": unix_time(), "region": region,
             "resources": list(resources), "detail": detail}
    _route(events_backends[account][region].event_buses["default"], event, forwarded=False)
    return event


def _route(bus, event: dict, forwarded: bool) -> None:
    for rule in list(bus.rules.values()):
        rule.send_to_targets(copy.deepcopy(event), forwarded=forwarded)


# --- rules and targets -----------------------------------------------------------------


def _send_to_targets(self, event, transform_input=True, forwarded=False):
    """`forwarded`: the event came from another bus (it is not forwarded again)."""
    if self.state != "ENABLED" or not self.event_pattern.matches_event(event):
        return
    for target in list(self.targets):
        try:
            _invoke(self, target, event, transform_input, forwarded)
        except Exception as exc:  # noqa: BLE001 - a failed target never fails the others
            _not_delivered(self, target, event, str(exc) or type(exc).__name__)


def _invoke(rule, target: dict, event: dict, transform_input: bool, forwarded: bool) -> None:
    arn = parse_arn(target["Arn"])
    if arn.service == "events" and arn.resource_type == "event-bus":
        _forward(rule, target, arn, event, forwarded)
    elif arn.service == "sqs":
        _send_to_queue(rule, target, arn, event, transform_input)
    else:
        _moto_send(rule, target, event, transform_input)


def _moto_send(rule, target: dict, event: dict, transform_input: bool) -> None:
    """moto's own delivery to this one target."""
    one = copy.copy(rule)
    one.targets = [target]
    _orig["send_to_targets"](one, event, transform_input)


def _not_delivered(rule, target: dict, event: dict, why: str) -> None:
    log.warning("event %s (%s) of rule %s not delivered to %s: %s", event.get("id"),
                event.get("detail-type"), rule.arn, target.get("Arn"), why)


def _forward(rule, target: dict, arn, event: dict, forwarded: bool) -> None:
    if forwarded:
        return _not_delivered(rule, target, event,
                              "it came from another event bus, and EventBridge forwards once")
    bus = events_backends[arn.account][arn.region].event_buses.get(arn.resource_id)
    if bus is None:
        return _not_delivered(rule, target, event, "no such event bus")
    refusal = _role_refusal(rule, target, bus)
    if refusal is None and arn.account != rule.account_id and not _bus_policy_allows(
            bus, rule, event):
        refusal = f"the bus policy does not allow events:PutEvents for {rule.account_id}"
    if refusal is not None:
        return _not_delivered(rule, target, event, refusal)
    _route(bus, event, forwarded=True)


def _role_refusal(rule, target: dict, bus) -> str | None:
    """Why EventBridge could not act as the target's role on `bus`, or None."""
    role_arn = target.get("RoleArn")
    if not role_arn:
        if bus.account_id != rule.account_id and bus.region == rule.region_name:
            return None  # the receiving account's bus policy alone decides
        return "a bus in the same account or another Region needs the target's RoleArn"
    role = _role(role_arn)
    if role is None:
        return f"role {role_arn} does not exist"
    trust = role.assume_role_policy_document
    trust = json.loads(trust) if isinstance(trust, str) else trust
    context = {"aws:SourceAccount": rule.account_id, "aws:SourceArn": rule.arn}
    if not policy_allows(trust, "sts:AssumeRole",
                         lambda p: service_principal_matches(p, EVENTS_PRINCIPAL), context):
        return f"role {role_arn} does not trust {EVENTS_PRINCIPAL} for this rule"
    identity = {"Statement": [s for doc in _identity_documents(role)
                              for s in _as_list(doc.get("Statement", []))]}
    if not policy_allows(identity, "events:PutEvents", lambda _: True, {}, resource=bus.arn):
        return f"role {role_arn} may not events:PutEvents on {bus.arn}"
    return None


def _role(role_arn: str):
    try:
        _, partition, _, _, account, _ = role_arn.split(":", 5)
        return iam_backends[account][partition].get_role_by_arn(role_arn)
    except (ValueError, KeyError, NotFoundException):
        return None


def _identity_documents(role) -> list[dict]:
    """The role's inline and attached (default version) policy documents."""
    documents = list(role.policies.values())
    for managed in role.managed_policies.values():
        documents += [v.document for v in managed.versions if v.is_default]
    return [json.loads(d) if isinstance(d, str) else d for d in documents]


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _bus_policy_allows(bus, rule, event: dict) -> bool:
    policy = json.loads(bus.policy) if bus.policy else {}
    context = {"events:source": event["source"], "events:detail-type": event["detail-type"],
               "aws:SourceArn": rule.arn, "aws:SourceAccount": rule.account_id}
    return policy_allows(policy, "events:PutEvents",
                         lambda p: account_principal_matches(p, rule.account_id), context,
                         resource=bus.arn)


def _send_to_queue(rule, target: dict, arn, event: dict, transform_input: bool) -> None:
    queue = sqs_backends[arn.account][arn.region].get_queue(arn.resource_id)
    if queue.policy and not policy_allows(
            json.loads(queue.policy), "sqs:SendMessage",
            lambda p: service_principal_matches(p, EVENTS_PRINCIPAL),
            {"aws:SourceArn": rule.arn, "aws:SourceAccount": rule.account_id},
            resource=queue.queue_arn):
        return _not_delivered(rule, target, event,
                              "the queue policy does not allow sqs:SendMessage for this rule")
    if target.get("InputTransformer") or target.get("SqsParameters"):
        return _moto_send(rule, target, event, transform_input)
    sqs_backends[arn.account][arn.region].send_message(queue_name=queue.name,
                                                       message_body=delivered_body(event))


def delivered_body(event: dict) -> str:
    """The event as EventBridge delivers it to a target (compact JSON, AWS's key order)."""
    body = {key: event[key] for key in EVENT_KEYS}
    if isinstance(body["time"], (int, float)):  # moto keeps epoch seconds
        body["time"] = datetime.fromtimestamp(body["time"], timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
    return json.dumps(body, separators=(",", ":"))


# --- PutPermission and PutEvents ------------------------------------------------------------


def _add_permission(self, statement_id, action, principal, condition):
    if principal.get("AWS", "").endswith(":iam::*:root"):
        principal = "*"
    _orig["add_permission"](self, statement_id, action, principal, condition)



def _entry_size(entry: dict) -> int:
    size = TIME_ENTRY_BYTES if entry.get("Time") is not None else 0
    for key in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(key) or "").encode())
    return size + sum(len(str(r).encode()) for r in entry.get("Resources") or [])


def _refusal(entry: dict) -> dict | None:
    if str(entry.get("Source") or "").startswith(AWS_SOURCE_PREFIX):
        return {"ErrorCode": "NotAuthorizedForSourceException",
                "ErrorMessage": "Not authorized for the source."}
    return None


def _put_events(self):
    entries = self._get_param("Entries") or []
    if len(entries) > 10:
        return _orig["put_events"](self)  # moto's ValidationException for the entry count
    if sum(map(_entry_size, entries)) > MAX_REQUEST_BYTES:
        raise ValidationException("Total size of the entries in the request is over the limit.")
    results = [_refusal(e) or self.events_backend.put_events([e])[0] for e in entries]
    return json.dumps({"FailedEntryCount": sum("ErrorCode" in r for r in results),
                       "Entries": results})


# --- entry point -----------------------------------------------------------------------


def apply() -> None:
    if _orig:
        return
    _orig["send_to_targets"] = Rule.send_to_targets
    Rule.send_to_targets = _send_to_targets
    _orig["put_events"] = EventsHandler.put_events
    EventsHandler.put_events = _put_events
    _orig["add_permission"] = EventBus.add_permission
    EventBus.add_permission = _add_permission
