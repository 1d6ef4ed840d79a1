"""Create the local table and KMS key from template.yaml's own definitions, publish the
customer role template, and verify the domain alert e-mails come from, in the emulator.

Idempotent. Reads TRACKSES_TABLE and the AWS_* environment the stack script exports.
"""

import os
import sys
from urllib.parse import urlparse

import boto3
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE_FIELDS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")


class _TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation short-form tags (!Ref, !Sub, ...) as plain values."""


_TemplateLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def resource_properties(name):
    with open(os.path.join(ROOT, "template.yaml"), encoding="utf-8") as f:
        template = yaml.load(f, Loader=_TemplateLoader)
    return template["Resources"][name]["Properties"]


def stream_specification(props):
    """The Table's StreamSpecification in CreateTable's form, or None without one. CloudFormation
    has only StreamViewType (a stream is enabled by being there); the API also wants
    StreamEnabled."""
    spec = props.get("StreamSpecification")
    if not spec:
        return None
    return {"StreamEnabled": True, "StreamViewType": spec["StreamViewType"]}


def create_table(name):
    dynamodb = boto3.client("dynamodb")
    props = resource_properties("Table")
    stream = stream_specification(props)
    if name in dynamodb.list_tables()["TableNames"]:
        # A table made before the template had its stream (a running emulator) gets it now.
        current = dynamodb.describe_table(TableName=name)["Table"].get("StreamSpecification", {})
        if stream and not current.get("StreamEnabled"):
            dynamodb.update_table(TableName=name, StreamSpecification=stream)
        return
    fields = {k: props[k] for k in TABLE_FIELDS}
    if stream:
        fields["StreamSpecification"] = stream
    dynamodb.create_table(TableName=name, **fields)
    dynamodb.get_waiter("table_exists").wait(TableName=name)
    ttl = props["TimeToLiveSpecification"]
    dynamodb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]},
    )


def create_secrets_key(alias):
    kms = boto3.client("kms")
    if any(a["AliasName"] == alias for a in kms.list_aliases()["Aliases"]):
        return
    key = kms.create_key(Description="trackses customer secrets (local)")
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyMetadata"]["KeyId"])


def publish_role_template(url):
    """Where a deployment publishes the customer template, in the emulated S3 (trackses'
    account), so stacks are created from the link's templateURL itself."""
    parsed = urlparse(url)
    bucket, key = parsed.hostname.split(".")[0], parsed.path.lstrip("/")
    region = os.environ["AWS_REGION"]
    s3 = boto3.client("s3")
    if bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    with open(os.path.join(ROOT, "cloudformation", "customer-role.yaml"), "rb") as f:
        s3.put_object(Bucket=bucket, Key=key, Body=f.read())


def verify_alert_sender(address):
    """The identity alert e-mails are sent from, in trackses' own SES account (a deployment
    verifies its AlertSender's domain itself). The v1 call: idempotent, unlike v2's create."""
    boto3.client("ses").verify_domain_identity(Domain=address.split("@")[1])


def main():
    create_table(os.environ["TRACKSES_TABLE"])
    create_secrets_key("alias/trackses-secrets")
    publish_role_template(os.environ["TRACKSES_ROLE_TEMPLATE_URL"])
    verify_alert_sender(os.environ["TRACKSES_ALERT_SENDER"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
