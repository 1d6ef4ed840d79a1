"""Fault injection (`/_trackses/faults`): chosen requests answered with DynamoDB's
InternalServerError (DynamoDB API reference, "Common Errors" and InternalServerError: HTTP 500,
`{"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": ...}`).

boto3 retries 500s by itself; these clients make one attempt, so each failure is seen."""

import json
import urllib.error
import urllib.request
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

UPDATE = "DynamoDB_20120810.UpdateItem"


def client(emulator, service="dynamodb"):
    return boto3.client(service, endpoint_url=emulator.base, region_name="eu-central-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=Config(retries={"total_max_attempts": 1}))


def call(emulator, method, body=None):
    """(status, JSON or None) of a request to the control route."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(emulator.base + "/_trackses/faults", data=data,
                                     method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as answer:
            status, text = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    return status, json.loads(text) if text else None


@pytest.fixture
def faults(emulator):
    call(emulator, "DELETE")
    yield lambda **spec: call(emulator, "POST", spec)
    call(emulator, "DELETE")


def make_table(ddb):
    name = f"faults-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    return name


def increment(ddb, table):
    """One UpdateItem adding 1 to the counter; None, or the ClientError's response."""
    try:
        ddb.update_item(TableName=table, Key={"pk": {"S": "counter"}},
                        UpdateExpression="ADD n :one",
                        ExpressionAttributeValues={":one": {"N": "1"}})
    except ClientError as error:
        return error.response
    return None


def counter(ddb, table):
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "counter"}}).get("Item")
    return int(item["n"]["N"]) if item else 0


def test_skip_then_fail_then_normal(emulator, faults):
    ddb = client(emulator)
    table = make_table(ddb)
    status, fault = faults(target=UPDATE, skip=1, fail=4)
    assert status == 200
    assert fault == {"target": UPDATE, "skip": 1, "fail": 4, "apply": False, "failed": 0}

    answers = [increment(ddb, table) for _ in range(6)]
    assert answers[0] is None and answers[5] is None
    for answer in answers[1:5]:
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 500
        assert answer["Error"] == {"Code": "InternalServerError",
                                   "Message": "Internal server error"}
    # A failed request never reached the table; other operations were never failed.
    assert counter(ddb, table) == 2
    assert call(emulator, "GET") == (200, {"faults": []})


def test_a_fault_naming_body_text_fails_only_the_requests_that_hold_it(emulator, faults):
    ddb = client(emulator)
    table = make_table(ddb)
    status, fault = faults(target=UPDATE, body_contains='"counter"',
                           fail=2)
    assert status == 200 and fault["body_contains"]

    def add_to(key):
        try:
            ddb.update_item(TableName=table, Key={"pk": {"S": key}}, UpdateExpression="ADD n :one",
                            ExpressionAttributeValues={":one": {"N": "1"}})
        except ClientError as error:
            return error.response["ResponseMetadata"]["HTTPStatusCode"]
        return 200

    # Other keys pass and do not use the fault up; the body still reaches the table whole.
    assert [add_to("other"), add_to("counter"), add_to("other"), add_to("counter"),
            add_to("counter")] == [200, 500, 200, 500, 200]
    assert counter(ddb, table) == 1
    other = ddb.get_item(TableName=table, Key={"pk": {"S": "other"}})["Item"]
    assert other["n"] == {"N": "2"}
    assert call(emulator, "GET") == (200, {"faults": []})


def test_the_answer_on_the_wire(emulator, faults):
    faults(target="DynamoDB_20120810.PutItem")
    request = urllib.request.Request(
        emulator.base + "/", data=b"{}", method="POST",
        headers={"X-Amz-Target": "DynamoDB_20120810.PutItem",
                 "Content-Type": "application/x-amz-json-1.0"})
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request)
    answer = raised.value
    body = answer.read()
    assert answer.code == 500
    assert json.loads(body) == {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                                "message": "Internal server error"}
    assert answer.headers["Content-Type"] == "application/x-amz-json-1.0"
    assert answer.headers["x-amzn-RequestId"]
    assert answer.headers["x-amz-crc32"] == str(zlib.crc32(body))


def test_pending_faults_are_listed_and_cleared(emulator, faults):
    ddb = client(emulator)
    table = make_table(ddb)
    faults(target=UPDATE, skip=2, fail=3)
    faults(target="DynamoDB_20120810.GetItem")
    increment(ddb, table)
    increment(ddb, table)
    assert increment(ddb, table)["Error"]["Code"] == "InternalServerError"
    status, listed = call(emulator, "GET")
    assert status == 200
    assert listed == {"faults": [
        {"target": UPDATE, "skip": 0, "fail": 2, "apply": False, "failed": 1},
        {"target": "DynamoDB_20120810.GetItem", "skip": 0, "fail": 1, "apply": False,
         "failed": 0}]}
    assert call(emulator, "DELETE") == (204, None)
    assert call(emulator, "GET") == (200, {"faults": []})
    assert increment(ddb, table) is None
    assert counter(ddb, table) == 3


def test_a_new_fault_for_a_target_replaces_the_pending_one(emulator, faults):
    faults(target=UPDATE, fail=5)
    faults(target=UPDATE, skip=1, fail=1)
    assert call(emulator, "GET")[1]["faults"] == [
        {"target": UPDATE, "skip": 1, "fail": 1, "apply": False, "failed": 0}]


def test_apply_carries_the_request_out_before_failing_it(emulator, faults):
    ddb = client(emulator)
    table = make_table(ddb)
    faults(target=UPDATE, fail=2, apply=True)
    assert increment(ddb, table)["Error"]["Code"] == "InternalServerError"
    assert increment(ddb, table)["Error"]["Code"] == "InternalServerError"
    assert increment(ddb, table) is None
    assert counter(ddb, table) == 3  # the two failed increments happened all the same


def test_streams_requests_can_fail_too(emulator, faults):
    ddb = client(emulator)
    name = f"faults-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"})
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    streams = client(emulator, "dynamodbstreams")
    arn = ddb.describe_table(TableName=name)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    faults(target="DynamoDBStreams_20120810.GetRecords", fail=1)
    with pytest.raises(ClientError) as raised:
        streams.get_records(ShardIterator=iterator)
    assert raised.value.response["Error"]["Code"] == "InternalServerError"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    # The same iterator still reads from where it was.
    assert len(streams.get_records(ShardIterator=iterator)["Records"]) == 1


def test_concurrent_requests_each_take_one_place(emulator, faults):
    ddb = client(emulator)
    table = make_table(ddb)
    faults(target=UPDATE, skip=5, fail=7)
    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(lambda _: increment(client(emulator), table), range(30)))
    failed = [a for a in answers if a is not None]
    assert len(failed) == 7
    assert all(a["Error"]["Code"] == "InternalServerError" for a in failed)
    assert counter(ddb, table) == 23


def test_failed_requests_are_in_the_request_log(emulator, faults):
    ddb = client(emulator)
    table = make_table(ddb)
    urllib.request.urlopen(urllib.request.Request(emulator.base + "/_trackses/requests",
                                                  method="DELETE"))
    faults(target=UPDATE, skip=1, fail=1)
    increment(ddb, table)
    increment(ddb, table)
    with urllib.request.urlopen(
            emulator.base + "/_trackses/requests?action=dynamodb:UpdateItem") as answer:
        logged = json.loads(answer.read())
    assert [entry["status"] for entry in logged] == [200, 500]


@pytest.mark.parametrize("spec", [
    {}, {"target": ""}, {"target": UPDATE, "fail": 0}, {"target": UPDATE, "skip": -1},
    {"target": UPDATE, "fail": "4"}, {"target": UPDATE, "apply": "yes"},
    {"target": UPDATE, "status": 503}, [UPDATE], {"target": UPDATE, "body_contains": ""},
    {"target": UPDATE, "body_contains": 7},
])
def test_invalid_faults_are_refused(emulator, faults, spec):
    status, answer = call(emulator, "POST", spec)
    assert status == 400 and answer["message"]
    assert call(emulator, "GET") == (200, {"faults": []})
