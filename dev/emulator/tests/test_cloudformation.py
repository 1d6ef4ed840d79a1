"""CloudFormation deploys a customer-like trackses template for real: IAM role, SNS topic with
its TopicPolicy, SES configuration set and event destination, an https/http subscription that
gets a signed SubscriptionConfirmation; outputs resolve; DeleteStack removes everything."""

import json
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from cryptography import x509

from support import verify

REGION = "eu-central-1"
ACCOUNT = "123456789012"

TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  ExternalId: {Type: String}
  Endpoint: {Type: String}
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: trackses-cfn-reader
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Principal: {AWS: "arn:aws:iam::111122223333:root"}
            Action: sts:AssumeRole
            Condition: {StringEquals: {"sts:ExternalId": !Ref ExternalId}}
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: trackses-cfn-events
      SignatureVersion: "2"
  TopicPolicy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref Topic]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - Sid: AllowSESPublish
            Effect: Allow
            Principal: {Service: ses.amazonaws.com}
            Action: sns:Publish
            Resource: !Ref Topic
            Condition: {StringEquals: {"aws:SourceAccount": !Ref "AWS::AccountId"}}
  ConfigSet:
    Type: AWS::SES::ConfigurationSet
    Properties:
      Name: trackses-cfn
  EventDestination:
    Type: AWS::SES::ConfigurationSetEventDestination
    Properties:
      ConfigurationSetName: !Ref ConfigSet
      EventDestination:
        Name: trackses-sns
        Enabled: true
        MatchingEventTypes: [send, reject, bounce, complaint, delivery, open, click,
                             renderingFailure, deliveryDelay, subscription]
        SnsDestination: {TopicARN: !Ref Topic}
  Subscription:
    Type: AWS::SNS::Subscription
    Properties:
      Protocol: http
      Endpoint: !Ref Endpoint
      TopicArn: !Ref Topic
      RawMessageDelivery: false
Outputs:
  RoleArn: {Value: !GetAtt Role.Arn}
  RoleName: {Value: !Ref Role}
  TopicArn: {Value: !Ref Topic}
  ConfigurationSetName: {Value: !Ref ConfigSet}
  SubscriptionArn: {Value: !Ref Subscription}
"""

EVENT_TYPES = ["SEND", "REJECT", "BOUNCE", "COMPLAINT", "DELIVERY", "OPEN", "CLICK",
               "RENDERING_FAILURE", "DELIVERY_DELAY", "SUBSCRIPTION"]


def wait_status(cfn, name, wanted):
    for _ in range(50):
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
        if stacks[0]["StackStatus"] == wanted:
            return stacks[0]
        time.sleep(0.1)
    raise AssertionError(f"{name}: {stacks[0]['StackStatus']} != {wanted}")


def test_customer_stack(emulator, receiver):
    cfn = emulator.client("cloudformation", REGION)
    sns = emulator.client("sns", REGION)
    iam = emulator.client("iam", REGION)
    sesv2 = emulator.client("sesv2", REGION)
    cert_name = next(emulator.cert_dir.iterdir()).name
    cert = x509.load_pem_x509_certificate(emulator.cert_dir.joinpath(cert_name).read_bytes())

    stack_id = cfn.create_stack(
        StackName="trackses-customer", TemplateBody=TEMPLATE, Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[{"ParameterKey": "ExternalId", "ParameterValue": "ext-123"},
                    {"ParameterKey": "Endpoint", "ParameterValue": f"{receiver.url}/sns"}],
    )["StackId"]
    stack = wait_status(cfn, stack_id, "CREATE_COMPLETE")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:trackses-cfn-events"
    assert outputs["TopicArn"] == topic_arn, outputs
    assert outputs["RoleName"] == "trackses-cfn-reader", outputs
    assert outputs["RoleArn"] == f"arn:aws:iam::{ACCOUNT}:role/trackses-cfn-reader", outputs
    assert outputs["ConfigurationSetName"] == "trackses-cfn", outputs
    assert outputs["SubscriptionArn"].startswith(topic_arn + ":"), outputs

    resources = {r["LogicalResourceId"]: r for r in
                 cfn.describe_stack_resources(StackName=stack_id)["StackResources"]}
    assert set(resources) == {"Role", "Topic", "TopicPolicy", "ConfigSet", "EventDestination",
                              "Subscription"}, resources

    # Role with its ExternalId condition.
    trust = iam.get_role(RoleName="trackses-cfn-reader")["Role"]["AssumeRolePolicyDocument"]
    if isinstance(trust, str):
        trust = json.loads(trust)
    assert trust["Statement"][0]["Condition"] == {"StringEquals": {"sts:ExternalId": "ext-123"}}

    # Topic with SignatureVersion 2 and the TopicPolicy.
    attrs = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    assert attrs["SignatureVersion"] == "2", attrs
    policy = json.loads(attrs["Policy"])
    assert policy["Statement"] == [{
        "Sid": "AllowSESPublish", "Effect": "Allow",
        "Principal": {"Service": "ses.amazonaws.com"}, "Action": "sns:Publish",
        "Resource": topic_arn,
        "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
    }], policy

    # The http subscription goes through the confirmation flow (SignatureVersion 2).
    _, body = receiver.get("/sns")
    conf = json.loads(body)
    assert conf["Type"] == "SubscriptionConfirmation" and conf["TopicArn"] == topic_arn, conf
    verify(conf, cert, cert_name, "2")
    subs = sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    assert [(s["SubscriptionArn"], s["Protocol"], s["Endpoint"]) for s in subs] == [
        ("PendingConfirmation", "http", f"{receiver.url}/sns")], subs
    sns.confirm_subscription(TopicArn=topic_arn, Token=conf["Token"])
    sub_attrs = sns.get_subscription_attributes(SubscriptionArn=outputs["SubscriptionArn"])
    assert sub_attrs["Attributes"]["PendingConfirmation"] == "false", sub_attrs

    # Configuration set and its event destination, through the SES patch's SESv2 API.
    sesv2.get_configuration_set(ConfigurationSetName="trackses-cfn")
    dests = sesv2.get_configuration_set_event_destinations(ConfigurationSetName="trackses-cfn")
    assert dests["EventDestinations"] == [{
        "Name": "trackses-sns", "Enabled": True, "MatchingEventTypes": EVENT_TYPES,
        "SnsDestination": {"TopicArn": topic_arn},
    }], dests

    # DeleteStack removes all of it.
    cfn.delete_stack(StackName=stack_id)
    wait_status(cfn, stack_id, "DELETE_COMPLETE")
    assert topic_arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert not [s for s in sns.list_subscriptions()["Subscriptions"]
                if s["TopicArn"] == topic_arn]
    with pytest.raises(ClientError):
        iam.get_role(RoleName="trackses-cfn-reader")
    names = [c for c in sesv2.list_configuration_sets()["ConfigurationSets"]]
    assert "trackses-cfn" not in names, names


def test_event_destination_needs_configuration_set(emulator):
    cfn = emulator.client("cloudformation", REGION)
    template = {"Resources": {"Dest": {
        "Type": "AWS::SES::ConfigurationSetEventDestination",
        "Properties": {"ConfigurationSetName": "no-such-set", "EventDestination": {
            "Name": "d", "Enabled": True, "MatchingEventTypes": ["send"],
            "SnsDestination": {"TopicARN": f"arn:aws:sns:{REGION}:{ACCOUNT}:x"}}},
    }}}
    try:
        cfn.create_stack(StackName="trackses-broken", TemplateBody=json.dumps(template))
    except ClientError:
        return  # moto surfaces the resource error on CreateStack
    status = cfn.describe_stacks(StackName="trackses-broken")["Stacks"][0]["StackStatus"]
    assert status != "CREATE_COMPLETE", status


def test_event_destination_storage_contract():
    """In-process (moto's mock_aws): where the event destination is stored, for the SES patch."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import boto3
    from moto import mock_aws
    from moto.sesv2.models import sesv2_backends

    from trackses_emulator import cfn_patches

    cfn_patches.apply()
    template = {"Resources": {
        "Set": {"Type": "AWS::SES::ConfigurationSet", "Properties": {"Name": "contract"}},
        "Dest": {"Type": "AWS::SES::ConfigurationSetEventDestination", "Properties": {
            "ConfigurationSetName": {"Ref": "Set"},
            "EventDestination": {"Name": "d", "Enabled": False,
                                 "MatchingEventTypes": ["bounce", "renderingFailure"],
                                 "SnsDestination": {"TopicARN": "arn:aws:sns:eu-central-1:1:t"}}}},
    }}
    with mock_aws():
        cfn = boto3.client("cloudformation", region_name=REGION, aws_access_key_id="x",
                           aws_secret_access_key="x")
        cfn.create_stack(StackName="contract", TemplateBody=json.dumps(template))
        backend = sesv2_backends[ACCOUNT][REGION]
        assert backend.event_destinations == {"contract": [{
            "Name": "d", "Enabled": False, "MatchingEventTypes": ["BOUNCE", "RENDERING_FAILURE"],
            "SnsDestination": {"TopicArn": "arn:aws:sns:eu-central-1:1:t"},
        }]}
        cfn.delete_stack(StackName="contract")
        assert backend.event_destinations == {}
        assert "contract" not in backend.core_backend.config_sets


INGEST = Path(__file__).resolve().parents[3] / "cloudformation" / "eventbridge-ingest.yaml"


def client_in(emulator, service, account, region=REGION):
    c = emulator.client(service, region)
    c.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.add_header(
        "x-moto-account-id", account))
    return c


def test_eventbridge_ingest_stack_goes_with_its_policies(emulator):
    """eventbridge-ingest.yaml (test_eventbridge.py checks what it creates): DeleteStack removes
    the bus with its policy and rule, and the queues."""
    account = "222222222222"
    cfn = client_in(emulator, "cloudformation", account)
    events, sqs = client_in(emulator, "events", account), client_in(emulator, "sqs", account)
    stack_id = cfn.create_stack(
        StackName="ingest", TemplateBody=INGEST.read_text(),
        Parameters=[{"ParameterKey": "BusName", "ParameterValue": "trackses-cfn"}])["StackId"]
    outputs = {o["OutputKey"]: o["OutputValue"]
               for o in wait_status(cfn, stack_id, "CREATE_COMPLETE")["Outputs"]}
    assert outputs["BusArn"] == f"arn:aws:events:{REGION}:{account}:event-bus/trackses-cfn"
    assert json.loads(events.describe_event_bus(Name="trackses-cfn")["Policy"])["Statement"]
    assert len(sqs.list_queues()["QueueUrls"]) == 3
    cfn.delete_stack(StackName=stack_id)
    wait_status(cfn, stack_id, "DELETE_COMPLETE")
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["default"]
    assert not sqs.list_queues().get("QueueUrls")


def test_event_bus_policy_older_properties(emulator):
    """AWS::Events::EventBusPolicy without Statement: Action, Principal (an account or "*") and a
    Condition {Type, Key, Value}, as PutPermission takes them; deleting the stack removes them."""
    account = "222222222222"
    template = {"Resources": {
        "One": {"Type": "AWS::Events::EventBusPolicy", "Properties": {
            "StatementId": "one", "Action": "events:PutEvents", "Principal": "444444444444"}},
        "Org": {"Type": "AWS::Events::EventBusPolicy", "Properties": {
            "StatementId": "org", "Action": "events:PutEvents", "Principal": "*",
            "Condition": {"Type": "StringEquals", "Key": "aws:PrincipalOrgID",
                          "Value": "o-1234567890"}}},
    }}
    cfn, events = client_in(emulator, "cloudformation", account), client_in(emulator, "events",
                                                                             account)
    stack_id = cfn.create_stack(StackName="bus-policy",
                                TemplateBody=json.dumps(template))["StackId"]
    wait_status(cfn, stack_id, "CREATE_COMPLETE")
    bus = f"arn:aws:events:{REGION}:{account}:event-bus/default"
    statements = json.loads(events.describe_event_bus()["Policy"])["Statement"]
    assert sorted(statements, key=lambda s: s["Sid"]) == [
        {"Sid": "one", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444444444444:root"},
         "Action": "events:PutEvents", "Resource": bus},
        {"Sid": "org", "Effect": "Allow", "Principal": "*",
         "Action": "events:PutEvents", "Resource": bus,
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1234567890"}}},
    ], statements
    cfn.delete_stack(StackName=stack_id)
    wait_status(cfn, stack_id, "DELETE_COMPLETE")
    assert "Policy" not in events.describe_event_bus()


def test_eventbridge_destination_must_be_the_default_bus(emulator):
    account = "222222222222"
    cfn = client_in(emulator, "cloudformation", account)
    template = {"Resources": {
        "Set": {"Type": "AWS::SES::ConfigurationSet", "Properties": {"Name": "eb-set"}},
        "Dest": {"Type": "AWS::SES::ConfigurationSetEventDestination", "Properties": {
            "ConfigurationSetName": {"Ref": "Set"},
            "EventDestination": {"Name": "eb", "Enabled": True, "MatchingEventTypes": ["send"],
                                 "EventBridgeDestination": {"EventBusArn": {"Fn::Sub": (
                                     "arn:aws:events:${AWS::Region}:${AWS::AccountId}:"
                                     "event-bus/trackses-ses-events")}}}}},
    }}
    with pytest.raises(ClientError) as exc:  # moto fails CreateStack itself (README)
        cfn.create_stack(StackName="eb-destination", TemplateBody=json.dumps(template))
    error = exc.value.response["Error"]
    assert error["Code"] == "ValidationError", error
    assert "only the default event bus" in error["Message"], error
