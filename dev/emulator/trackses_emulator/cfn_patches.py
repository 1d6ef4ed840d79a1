"""CloudFormation models that moto 5.2.5 lacks (it skips them with a warning, drops outputs
referencing them and still reports CREATE_COMPLETE):

- AWS::SNS::Subscription             -> SNSBackend.subscribe (http/https: the SNS patch's
                                        confirmation flow), Ref = subscription ARN
- AWS::SNS::TopicPolicy              -> topic Policy attribute on every topic in Topics
- AWS::SES::ConfigurationSet         -> moto's SES configuration set (shared by SES v1/v2),
                                        Ref = name
- AWS::SES::ConfigurationSetEventDestination
                                     -> sesv2 backend attribute `event_destinations`:
                                        {configuration set name: [destination, ...]} with each
                                        destination in SESv2 API shape
                                        {Name, Enabled, MatchingEventTypes, SnsDestination:
                                        {TopicArn}} (moto has no place for it); an
                                        EventBridgeDestination must name the account's default
                                        bus, as in the SESv2 API

- AWS::Events::EventBusPolicy        -> one statement (StatementId) of the bus's resource
                                        policy: the Statement form, or the older
                                        Action/Principal/Condition properties; Ref = StatementId
- AWS::SQS::QueuePolicy              -> the Policy attribute of every queue (URL) in Queues,
                                        removed again on delete

and AWS::IAM::Role's inline Policies are stored as JSON text, as iam:PutRolePolicy stores them
(moto keeps the template's dict, and GetRolePolicy then serves its Python repr); `!Ref` of an
AWS::Events::EventBus is its name, as in AWS (moto handed the bus object itself to whatever
referenced it).

moto registers models through CloudFormationModel.__subclasses__() (direct subclasses only), so
defining the classes registers them; apply() clears moto's cached model map.
"""

import json
import re
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.core.common_models import CloudFormationModel
from moto.events.models import EventBus, EventBusPolicyStatement, events_backends
from moto.iam.models import Role
from moto.ses.exceptions import ConfigurationSetDoesNotExist, EventDestinationAlreadyExists
from moto.ses.models import ses_backends
from moto.sesv2.models import sesv2_backends
from moto.sns.models import sns_backends
from moto.sqs.exceptions import QueueDoesNotExist
from moto.sqs.models import sqs_backends

from .ses_patches import eventbridge_destination_problem


def _sns(arn: str):
    parts = arn.split(":")
    return sns_backends[parts[4]][parts[3]]


def event_destinations(account_id: str, region: str) -> dict[str, list[dict]]:
    """The storage contract: sesv2_backends[account][region].event_destinations (the same as
    ses_patches.event_destinations, which serves it through the SESv2 API)."""
    backend = sesv2_backends[account_id][region]
    if not hasattr(backend, "event_destinations"):
        backend.event_destinations = {}
    return backend.event_destinations


def sesv2_event_type(cfn_name: str) -> str:
    """CloudFormation spelling -> SESv2 API: renderingFailure -> RENDERING_FAILURE."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", cfn_name).upper()


class _Base:
    """Boilerplate shared by the models below (mixin: moto only sees direct subclasses)."""

    physical_resource_id: str

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    def is_created(self) -> bool:
        return True

    @classmethod
    def update_from_cloudformation_json(  # type: ignore[misc]
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )


# --- SNS -------------------------------------------------------------------------------


class SNSSubscriptionResource(_Base, CloudFormationModel):
    # Subscription attributes CloudFormation exposes as properties.
    ATTRIBUTES = ("RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "DeliveryPolicy",
                  "RedrivePolicy", "SubscriptionRoleArn")

    def __init__(self, arn: str):
        self.physical_resource_id = arn

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::Subscription"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        props = cloudformation_json["Properties"]
        backend = _sns(props["TopicArn"])
        sub = backend.subscribe(props["TopicArn"], props["Endpoint"], props["Protocol"])
        for name in cls.ATTRIBUTES:
            if name in props:
                value = props[name]
                if isinstance(value, bool):
                    value = str(value).lower()
                elif isinstance(value, (dict, list)):
                    value = json.dumps(value)
                backend.set_subscription_attributes(sub.arn, name, value)
        return cls(sub.arn)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _sns(self.physical_resource_id)
        if self.physical_resource_id in backend.subscriptions:
            backend.unsubscribe(self.physical_resource_id)


class SNSTopicPolicyResource(_Base, CloudFormationModel):
    def __init__(self, name: str, topics: list[str]):
        self.physical_resource_id = name
        self.topics = topics

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::TopicPolicy"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        props = cloudformation_json["Properties"]
        policy = props["PolicyDocument"]
        if not isinstance(policy, str):
            policy = json.dumps(policy)
        for arn in props["Topics"]:
            _sns(arn).set_topic_attribute(arn, "policy", policy)
        return cls(resource_name, list(props["Topics"]))

    def delete(self, account_id: str, region_name: str) -> None:
        # Like AWS: the topics get their default policy back.
        for arn in self.topics:
            backend = _sns(arn)
            topic = backend.topics.get(arn)
            if topic is not None:
                default = topic._create_default_topic_policy(
                    backend.region_name, topic.account_id, topic.name
                )
                backend.set_topic_attribute(arn, "policy", json.dumps(default))


# --- SES -------------------------------------------------------------------------------


class SESConfigurationSetResource(_Base, CloudFormationModel):
    def __init__(self, name: str):
        self.physical_resource_id = name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SES::ConfigurationSet"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        props = cloudformation_json["Properties"]
        ses_backends[account_id][region_name].create_configuration_set_v2(
            configuration_set_name=resource_name,
            tracking_options=props.get("TrackingOptions") or {},
            delivery_options=props.get("DeliveryOptions") or {},
            reputation_options=props.get("ReputationOptions") or {},
            sending_options=props.get("SendingOptions") or {},
            tags=props.get("Tags") or [],
            suppression_options=props.get("SuppressionOptions") or {},
            vdm_options=props.get("VdmOptions") or {},
        )
        return cls(resource_name)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = ses_backends[account_id][region_name]
        if self.physical_resource_id in backend.config_sets:
            backend.delete_configuration_set(self.physical_resource_id)
        event_destinations(account_id, region_name).pop(self.physical_resource_id, None)


class SESConfigurationSetEventDestinationResource(_Base, CloudFormationModel):
    def __init__(self, name: str, config_set: str, destination_name: str):
        self.physical_resource_id = name
        self.config_set = config_set
        self.destination_name = destination_name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SES::ConfigurationSetEventDestination"

    @staticmethod
    def to_sesv2(cfn: dict[str, Any]) -> dict[str, Any]:
        """CloudFormation's EventDestination -> SESv2 API shape."""
        dest = {
            "Name": cfn["Name"],
            "Enabled": bool(cfn.get("Enabled", False)),
            "MatchingEventTypes": [sesv2_event_type(t) for t in cfn["MatchingEventTypes"]],
        }
        if "SnsDestination" in cfn:
            dest["SnsDestination"] = {"TopicArn": cfn["SnsDestination"]["TopicARN"]}
        for name in ("CloudWatchDestination", "KinesisFirehoseDestination",
                     "EventBridgeDestination"):
            if name in cfn:
                dest[name] = cfn[name]
        return dest

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        props = cloudformation_json["Properties"]
        config_set = props["ConfigurationSetName"]
        if config_set not in ses_backends[account_id][region_name].config_sets:
            raise ConfigurationSetDoesNotExist(f"Configuration set <{config_set}> does not exist.")
        dest = cls.to_sesv2(props["EventDestination"])
        problem = eventbridge_destination_problem(dest, account_id, region_name)
        if problem:
            raise ValidationError(message=problem)
        listed = event_destinations(account_id, region_name).setdefault(config_set, [])
        if any(d["Name"] == dest["Name"] for d in listed):
            raise EventDestinationAlreadyExists(f"Event destination {dest['Name']} already exists.")
        listed.append(dest)
        return cls(resource_name, config_set, dest["Name"])

    def delete(self, account_id: str, region_name: str) -> None:
        store = event_destinations(account_id, region_name)
        listed = [d for d in store.get(self.config_set, []) if d["Name"] != self.destination_name]
        if listed:
            store[self.config_set] = listed
        else:
            store.pop(self.config_set, None)


# --- EventBridge and SQS policies ------------------------------------------------------


class EventBusPolicyResource(_Base, CloudFormationModel):
    def __init__(self, bus_name: str, statement_id: str):
        self.physical_resource_id = statement_id
        self.bus_name = bus_name

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Events::EventBusPolicy"

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        props = cloudformation_json["Properties"]
        backend = events_backends[account_id][region_name]
        bus = backend.describe_event_bus(props.get("EventBusName") or "default")
        sid = props["StatementId"]
        statement = props.get("Statement")
        if statement is None:  # the older properties, validated as PutPermission does
            backend.put_permission(bus.name, props.get("Action"), props.get("Principal"), sid,
                                   props.get("Condition"), None)
        else:
            bus._statements[sid] = EventBusPolicyStatement.from_dict({
                "Sid": sid, "Effect": statement.get("Effect", "Allow"),
                "Principal": statement["Principal"], "Action": statement["Action"],
                "Resource": statement.get("Resource", bus.arn),
                "Condition": statement.get("Condition"),
            })
        return cls(bus.name, sid)

    def delete(self, account_id: str, region_name: str) -> None:
        bus = events_backends[account_id][region_name].event_buses.get(self.bus_name)
        if bus is not None:
            bus.remove_statement(self.physical_resource_id)


class SQSQueuePolicyResource(_Base, CloudFormationModel):
    def __init__(self, name: str, queue_urls: list[str]):
        self.physical_resource_id = name
        self.queue_urls = queue_urls

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SQS::QueuePolicy"

    @staticmethod
    def _set_policy(url: str, region_name: str, policy: str) -> None:
        account, name = url.rstrip("/").split("/")[-2:]  # https://sqs.<region>.../<account>/<name>
        sqs_backends[account][region_name].set_queue_attributes(name, {"Policy": policy})

    @classmethod
    def create_from_cloudformation_json(  # type: ignore[misc]
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        props = cloudformation_json["Properties"]
        policy = props["PolicyDocument"]
        if not isinstance(policy, str):
            policy = json.dumps(policy)
        for url in props["Queues"]:
            cls._set_policy(url, region_name, policy)
        return cls(resource_name, list(props["Queues"]))

    def delete(self, account_id: str, region_name: str) -> None:
        for url in self.queue_urls:
            try:
                self._set_policy(url, region_name, "")
            except QueueDoesNotExist:  # deleted before its policy
                pass


_orig: dict = {}


def _role_put_policy(self, policy_name: str, policy_json) -> None:
    if not isinstance(policy_json, str):
        policy_json = json.dumps(policy_json)
    _orig["role_put_policy"](self, policy_name, policy_json)


def apply() -> None:
    if not _orig:
        _orig["role_put_policy"] = Role.put_policy
        Role.put_policy = _role_put_policy
        EventBus.physical_resource_id = property(lambda bus: bus.name)  # what Ref returns
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()
