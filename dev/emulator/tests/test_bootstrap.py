"""dev/bootstrap.py's table: made from template.yaml's Table, its stream included (CloudFormation's
`StreamSpecification: {StreamViewType}` becomes CreateTable's `{StreamEnabled, StreamViewType}`)."""

import importlib.util
import uuid
from pathlib import Path

import boto3
import pytest
import yaml
from support import TemplateLoader

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def bootstrap(emulator, monkeypatch):
    """dev/bootstrap.py, its boto3 clients pointed at the test emulator."""
    for name, value in {"AWS_ENDPOINT_URL": emulator.base, "AWS_REGION": "eu-central-1",
                        "AWS_DEFAULT_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # a session that reads the above
    spec = importlib.util.spec_from_file_location("bootstrap", ROOT / "dev" / "bootstrap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def template_stream():
    table = yaml.load((ROOT / "template.yaml").read_text(), Loader=TemplateLoader)[
        "Resources"]["Table"]["Properties"]
    return table.get("StreamSpecification")


def test_the_table_gets_the_templates_stream(emulator, bootstrap):
    spec = template_stream()
    if spec is None:
        pytest.skip("template.yaml's Table has no StreamSpecification")
    name = f"bootstrap-{uuid.uuid4().hex[:8]}"
    bootstrap.create_table(name)
    table = emulator.client("dynamodb").describe_table(TableName=name)["Table"]
    assert table["StreamSpecification"] == {"StreamEnabled": True,
                                            "StreamViewType": spec["StreamViewType"]}
    assert table["LatestStreamArn"].startswith(table["TableArn"] + "/stream/")
    ttl = emulator.client("dynamodb").describe_time_to_live(TableName=name)
    assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] == "ENABLED"


def test_an_existing_table_without_the_stream_gets_it(emulator, bootstrap):
    spec = template_stream()
    if spec is None:
        pytest.skip("template.yaml's Table has no StreamSpecification")
    name = f"bootstrap-{uuid.uuid4().hex[:8]}"
    props = bootstrap.resource_properties("Table")
    ddb = emulator.client("dynamodb")
    ddb.create_table(TableName=name, **{k: props[k] for k in bootstrap.TABLE_FIELDS})
    bootstrap.create_table(name)
    bootstrap.create_table(name)  # and again: nothing left to do
    assert ddb.describe_table(TableName=name)["Table"]["StreamSpecification"] == {
        "StreamEnabled": True, "StreamViewType": spec["StreamViewType"]}


def test_stream_specification_forms():
    spec = importlib.util.spec_from_file_location("bootstrap", ROOT / "dev" / "bootstrap.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.stream_specification({"StreamSpecification": {"StreamViewType": "NEW_IMAGE"}}) \
        == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert module.stream_specification({}) is None
