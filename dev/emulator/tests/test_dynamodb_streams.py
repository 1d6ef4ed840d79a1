"""DynamoDB Streams as AWS documents them, read the way a Lambda event source mapping reads a stream
(DescribeTable -> LatestStreamArn, DescribeStream, GetShardIterator, GetRecords).

Sources: the DynamoDB Streams API reference (DescribeStream, GetShardIterator, GetRecords, Record,
StreamRecord, the errors they list) and the Developer Guide's "Change data capture for DynamoDB
Streams" ("If you perform a PutItem or UpdateItem operation that does not change any data in an
item, DynamoDB Streams does not write a stream record"; 24-hour retention; iterators expire after
15 minutes). Each test makes its own tables: the emulator is shared by the session.
"""

import json
import re
import statistics
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

REGION = "eu-central-1"  # Emulator.client's default: records must say it, not us-east-1


def make_table(ddb, view="NEW_IMAGE", sort_key=False):
    name = f"streams-{uuid.uuid4().hex[:8]}"
    keys = [("pk", "HASH")] + ([("sk", "RANGE")] if sort_key else [])
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
        KeySchema=[{"AttributeName": k, "KeyType": t} for k, t in keys],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view},
    )
    return name


class Stream:
    """A table's stream, read as a consumer reads it."""

    def __init__(self, emulator, table):
        self.emulator = emulator
        self.client = emulator.client("dynamodbstreams")
        self.arn = emulator.client("dynamodb").describe_table(
            TableName=table)["Table"]["LatestStreamArn"]
        description = self.client.describe_stream(StreamArn=self.arn)["StreamDescription"]
        (shard,) = description["Shards"]
        self.shard = shard["ShardId"]

    def iterator(self, kind="TRIM_HORIZON", sequence_number=None):
        extra = {"SequenceNumber": sequence_number} if sequence_number is not None else {}
        return self.client.get_shard_iterator(StreamArn=self.arn, ShardId=self.shard,
                                              ShardIteratorType=kind, **extra)["ShardIterator"]

    def read(self, iterator, limit=None):
        """(records, next iterator) of one GetRecords."""
        answer = self.client.get_records(ShardIterator=iterator,
                                         **({"Limit": limit} if limit else {}))
        return answer["Records"], answer.get("NextShardIterator")  # none: a closed shard's end

    def all(self):
        return self.read(self.iterator())[0]

    def raw(self, target, body):
        """The HTTP answer's JSON, as a strict client (the Rust SDK) would get it."""
        request = AWSRequest("POST", self.emulator.base + "/", data=json.dumps(body), headers={
            "X-Amz-Target": f"DynamoDBStreams_20120810.{target}",
            "Content-Type": "application/x-amz-json-1.0"})
        SigV4Auth(Credentials("testing", "testing"), "dynamodb", REGION).add_auth(request)
        with urllib.request.urlopen(urllib.request.Request(
                request.url, data=request.body, headers=dict(request.headers),
                method="POST")) as answer:
            return json.loads(answer.read())


def events(records):
    return [r["eventName"] for r in records]


def key(pk):
    return {"pk": {"S": pk}}


# --- what a record looks like --------------------------------------------------------------


def test_record_shape_over_http(emulator):
    ddb = emulator.client("dynamodb")
    table = make_table(ddb, sort_key=True)
    stream = Stream(emulator, table)
    before = int(time.time())
    item = {"pk": {"S": "p"}, "sk": {"S": "s"}, "n": {"N": "12"}, "tags": {"SS": ["a"]},
            "m": {"M": {"b": {"B": b"\x00\x01"}, "l": {"L": [{"NULL": True}, {"BOOL": False}]}}}}
    ddb.put_item(TableName=table, Item=item)
    after = time.time()

    iterator = stream.raw("GetShardIterator", {
        "StreamArn": stream.arn, "ShardId": stream.shard, "ShardIteratorType": "TRIM_HORIZON"})
    answer = stream.raw("GetRecords", {"ShardIterator": iterator["ShardIterator"]})
    assert set(answer) == {"Records", "NextShardIterator"}
    (record,) = answer["Records"]
    assert list(record) == ["eventID", "eventName", "eventVersion", "eventSource", "awsRegion",
                            "dynamodb"]
    assert re.fullmatch(r"[0-9a-f]{32}", record["eventID"]), record
    assert record["eventName"] == "INSERT"
    assert record["eventVersion"] == "1.1"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == REGION
    body = record["dynamodb"]
    assert list(body) == ["ApproximateCreationDateTime", "Keys", "NewImage", "SequenceNumber",
                          "SizeBytes", "StreamViewType"]
    # Epoch seconds as a JSON number, rounded down to the second: an integer.
    created = body["ApproximateCreationDateTime"]
    assert type(created) is int and before <= created <= after, created
    assert body["Keys"] == {"pk": {"S": "p"}, "sk": {"S": "s"}}
    assert body["NewImage"] == {**item, "m": {"M": {**item["m"]["M"], "b": {"B": "AAE="}}}}, body
    assert re.fullmatch(r"\d{21,40}", body["SequenceNumber"]), body
    # DynamoDB's item sizes: Keys (pk+p, sk+s = 4) and NewImage.
    assert type(body["SizeBytes"]) is int and body["SizeBytes"] > 4
    assert body["StreamViewType"] == "NEW_IMAGE"

    # boto3 parses the same answer: the time as a timezone-aware datetime of that second.
    (parsed,) = stream.all()
    assert parsed["dynamodb"]["ApproximateCreationDateTime"] == \
        datetime.fromtimestamp(created, timezone.utc)
    assert parsed["dynamodb"]["NewImage"]["m"]["M"]["b"] == {"B": b"\x00\x01"}
    assert parsed["awsRegion"] == REGION


def test_describe_stream_shape(emulator):
    ddb = emulator.client("dynamodb")
    table = make_table(ddb)
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    label = arn.split("/stream/")[1]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", label), label
    description = Stream(emulator, table).raw("DescribeStream", {"StreamArn": arn})
    description = description["StreamDescription"]
    assert description["StreamArn"] == arn and description["StreamLabel"] == label
    assert description["StreamStatus"] == "ENABLED"
    assert description["StreamViewType"] == "NEW_IMAGE"
    assert description["TableName"] == table
    assert isinstance(description["CreationRequestDateTime"], (int, float))
    (shard,) = description["Shards"]
    assert re.fullmatch(r"shardId-\d{20}-[0-9a-f]{8}", shard["ShardId"]), shard
    assert re.fullmatch(r"\d{21,40}", shard["SequenceNumberRange"]["StartingSequenceNumber"])
    assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]  # an open shard


@pytest.mark.parametrize("view, images", [
    ("NEW_IMAGE", {"INSERT": {"NewImage"}, "MODIFY": {"NewImage"}, "REMOVE": set()}),
    ("OLD_IMAGE", {"INSERT": set(), "MODIFY": {"OldImage"}, "REMOVE": {"OldImage"}}),
    ("NEW_AND_OLD_IMAGES", {"INSERT": {"NewImage"}, "MODIFY": {"NewImage", "OldImage"},
                            "REMOVE": {"OldImage"}}),
    ("KEYS_ONLY", {"INSERT": set(), "MODIFY": set(), "REMOVE": set()}),
])
def test_view_types(emulator, view, images):
    ddb = emulator.client("dynamodb")
    table = make_table(ddb, view=view)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"S": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"S": "2"}})
    ddb.delete_item(TableName=table, Key=key("a"))
    records = Stream(emulator, table).all()
    assert events(records) == ["INSERT", "MODIFY", "REMOVE"]
    for record in records:
        body = record["dynamodb"]
        assert body["StreamViewType"] == view
        assert body["Keys"] == key("a")
        assert {"NewImage", "OldImage"} & set(body) == images[record["eventName"]], record
    if view == "NEW_AND_OLD_IMAGES":
        modify = records[1]["dynamodb"]
        assert modify["OldImage"]["v"] == {"S": "1"} and modify["NewImage"]["v"] == {"S": "2"}


# --- which writes make records --------------------------------------------------------------


def test_single_item_writes(emulator):
    ddb = emulator.client("dynamodb")
    table = make_table(ddb)
    stream = Stream(emulator, table)
    not_there = "attribute_not_exists(pk)"

    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1"}},
                 ConditionExpression=not_there)                       # INSERT
    with pytest.raises(ClientError) as failed:                         # condition fails: none
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "9"}},
                     ConditionExpression=not_there)
    assert failed.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    ddb.update_item(TableName=table, Key=key("a"), UpdateExpression="ADD n :one",
                    ExpressionAttributeValues={":one": {"N": "1"}})    # MODIFY
    with pytest.raises(ClientError):                                   # condition fails: none
        ddb.update_item(TableName=table, Key=key("a"), UpdateExpression="ADD n :one",
                        ConditionExpression="n = :zero",
                        ExpressionAttributeValues={":one": {"N": "1"}, ":zero": {"N": "0"}})
    ddb.update_item(TableName=table, Key=key("b"), UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"S": "new"}})    # upsert: one INSERT
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "v": {"S": "new"}})  # no change: none
    ddb.update_item(TableName=table, Key=key("b"), UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"S": "new"}})    # no change: none
    ddb.delete_item(TableName=table, Key=key("b"))                     # REMOVE
    ddb.delete_item(TableName=table, Key=key("missing"))               # nothing deleted: none
    with pytest.raises(ClientError):                                   # condition fails: none
        ddb.delete_item(TableName=table, Key=key("a"), ConditionExpression="n = :zero",
                        ExpressionAttributeValues={":zero": {"N": "0"}})

    records = stream.all()
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records] == [
        ("INSERT", "a"), ("MODIFY", "a"), ("INSERT", "b"), ("REMOVE", "b")]
    assert records[0]["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "n": {"N": "1"}}
    assert records[1]["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "n": {"N": "2"}}
    assert records[2]["dynamodb"]["NewImage"] == {"pk": {"S": "b"}, "v": {"S": "new"}}
    assert "NewImage" not in records[3]["dynamodb"]


def test_transactions_and_batches(emulator):
    ddb = emulator.client("dynamodb")
    table = make_table(ddb, view="NEW_AND_OLD_IMAGES")
    stream = Stream(emulator, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "old"}, "v": {"S": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "gone"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "checked"}, "v": {"S": "1"}})
    seen = len(stream.all())

    # Cancelled by its last action, after the writes were made: no records.
    with pytest.raises(ClientError) as cancelled:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "new"}}}},
            {"Update": {"TableName": table, "Key": key("old"), "UpdateExpression": "SET v = :v",
                        "ExpressionAttributeValues": {":v": {"S": "2"}}}},
            {"Delete": {"TableName": table, "Key": key("gone")}},
            {"ConditionCheck": {"TableName": table, "Key": key("checked"),
                                "ConditionExpression": "v = :other",
                                "ExpressionAttributeValues": {":other": {"S": "2"}}}},
        ])
    assert cancelled.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert len(stream.all()) == seen

    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": {"pk": {"S": "new"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": table, "Key": key("old"), "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"S": "2"}}}},
        {"Update": {"TableName": table, "Key": key("upserted"), "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"S": "1"}}}},
        {"Delete": {"TableName": table, "Key": key("gone")}},
        {"ConditionCheck": {"TableName": table, "Key": key("checked"),
                            "ConditionExpression": "v = :v",
                            "ExpressionAttributeValues": {":v": {"S": "1"}}}},
    ])
    committed = stream.all()[seen:]
    assert [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in committed] == [
        ("INSERT", "new"), ("MODIFY", "old"), ("INSERT", "upserted"), ("REMOVE", "gone")]
    assert committed[1]["dynamodb"]["OldImage"]["v"] == {"S": "1"}
    assert committed[1]["dynamodb"]["NewImage"]["v"] == {"S": "2"}
    assert committed[2]["dynamodb"]["NewImage"] == {"pk": {"S": "upserted"}, "v": {"S": "1"}}

    ddb.batch_write_item(RequestItems={table: [
        {"PutRequest": {"Item": {"pk": {"S": "b1"}}}},
        {"PutRequest": {"Item": {"pk": {"S": "old"}, "v": {"S": "3"}}}},
        {"DeleteRequest": {"Key": key("new")}},
    ]})
    batched = stream.all()[seen + len(committed):]
    assert sorted((r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in batched) == [
        ("INSERT", "b1"), ("MODIFY", "old"), ("REMOVE", "new")]


# --- positions in the shard ---------------------------------------------------------------


def put(ddb, table, *names):
    for name in names:
        ddb.put_item(TableName=table, Item={"pk": {"S": name}})


def names(records):
    return [r["dynamodb"]["Keys"]["pk"]["S"] for r in records]


def test_iterator_types(emulator):
    ddb = emulator.client("dynamodb")
    table = make_table(ddb)
    stream = Stream(emulator, table)
    horizon = stream.iterator("TRIM_HORIZON")  # taken on an empty stream: sees what comes later
    latest_before = stream.iterator("LATEST")
    put(ddb, table, "a", "b", "c")
    latest = stream.iterator("LATEST")
    put(ddb, table, "d")

    records, _ = stream.read(horizon)
    assert names(records) == ["a", "b", "c", "d"]
    assert names(stream.read(latest_before)[0]) == ["a", "b", "c", "d"]
    assert names(stream.read(latest)[0]) == ["d"]
    b = records[1]["dynamodb"]["SequenceNumber"]
    assert names(stream.read(stream.iterator("AT_SEQUENCE_NUMBER", b))[0]) == ["b", "c", "d"]
    assert names(stream.read(stream.iterator("AFTER_SEQUENCE_NUMBER", b))[0]) == ["c", "d"]
    last = records[-1]["dynamodb"]["SequenceNumber"]
    assert stream.read(stream.iterator("AFTER_SEQUENCE_NUMBER", last))[0] == []


def test_polling_an_idle_shard_then_new_records(emulator):
    ddb = emulator.client("dynamodb")
    table = make_table(ddb)
    stream = Stream(emulator, table)
    put(ddb, table, "a", "b", "c")

    records, iterator = stream.read(stream.iterator(), limit=2)
    assert names(records) == ["a", "b"]
    records, iterator = stream.read(iterator, limit=2)
    assert names(records) == ["c"]
    for _ in range(3):  # nothing new: an empty list and an iterator to go on with
        records, iterator = stream.read(iterator)
        assert records == [] and iterator is not None
    put(ddb, table, "d", "e")
    records, iterator = stream.read(iterator)
    assert names(records) == ["d", "e"]
    assert stream.read(iterator)[0] == []


def test_sequence_numbers_are_increasing_decimal_strings(emulator):
    ddb = emulator.client("dynamodb")
    table = make_table(ddb)
    stream = Stream(emulator, table)
    put(ddb, table, *(f"i{n}" for n in range(30)))
    ddb.delete_item(TableName=table, Key=key("i0"))
    numbers = [r["dynamodb"]["SequenceNumber"] for r in stream.all()]
    assert len(numbers) == 31
    assert all(re.fullmatch(r"[1-9]\d{20,39}", n) for n in numbers), numbers
    values = [int(n) for n in numbers]
    assert values == sorted(set(values))
    start = stream.client.describe_stream(StreamArn=stream.arn)["StreamDescription"][
        "Shards"][0]["SequenceNumberRange"]["StartingSequenceNumber"]
    assert int(start) <= values[0]


def test_errors(emulator):
    ddb = emulator.client("dynamodb")
    table = make_table(ddb)
    stream = Stream(emulator, table)
    put(ddb, table, "a")
    unchecked = boto3.client(  # sends what boto3 would refuse to send
        "dynamodbstreams", endpoint_url=emulator.base, region_name=REGION,
        aws_access_key_id="testing", aws_secret_access_key="testing",
        config=Config(parameter_validation=False))

    def code(call, **params):
        with pytest.raises(ClientError) as raised:
            call(**params)
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        return raised.value.response["Error"]["Code"]

    get_iterator = stream.client.get_shard_iterator
    assert code(get_iterator, StreamArn=stream.arn, ShardId="shardId-00000000000000000000-0000abcd",
                ShardIteratorType="LATEST") == "ResourceNotFoundException"
    assert code(get_iterator, StreamArn=stream.arn.replace(table, "no-such-table"),
                ShardId=stream.shard, ShardIteratorType="LATEST") == "ResourceNotFoundException"
    assert code(get_iterator, StreamArn=stream.arn, ShardId=stream.shard,
                ShardIteratorType="AFTER_SEQUENCE_NUMBER") == "ValidationException"
    assert code(get_iterator, StreamArn=stream.arn, ShardId=stream.shard,
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber="1" * 30) == "ValidationException"  # not one of this shard
    assert code(unchecked.get_shard_iterator, StreamArn=stream.arn, ShardId=stream.shard,
                ShardIteratorType="FIRST") == "ValidationException"
    assert code(stream.client.get_records, ShardIterator="not an iterator") == "ValidationException"
    iterator = stream.iterator()
    assert code(unchecked.get_records, ShardIterator=iterator, Limit=0) == "ValidationException"
    assert code(unchecked.get_records, ShardIterator=iterator, Limit=1001) == "ValidationException"
    assert names(stream.read(iterator, limit=1000)[0]) == ["a"]


# --- shard rollover (POST /_trackses/dynamodb/streams/rollover) -----------------------------


def rollover(emulator, table):
    request = urllib.request.Request(
        emulator.base + "/_trackses/dynamodb/streams/rollover", method="POST",
        data=json.dumps({"table": table}).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_rollover_closes_the_shard_and_opens_a_child(emulator):
    ddb = emulator.client("dynamodb")
    table = make_table(ddb)
    stream = Stream(emulator, table)
    parent = stream.shard
    put(ddb, table, "a", "b", "c")
    reader = stream.iterator()  # taken before the rollover, on the parent
    first, reader = stream.read(reader, limit=2)
    assert names(first) == ["a", "b"]

    status, answer = rollover(emulator, table)
    assert status == 200
    assert answer["StreamArn"] == stream.arn and answer["ClosedShardId"] == parent
    child = answer["ShardId"]
    put(ddb, table, "d")

    shards = stream.client.describe_stream(StreamArn=stream.arn)["StreamDescription"]["Shards"]
    assert [s["ShardId"] for s in shards] == [parent, child]
    assert "ParentShardId" not in shards[0] and shards[1]["ParentShardId"] == parent
    ending = shards[0]["SequenceNumberRange"]["EndingSequenceNumber"]
    assert ending == stream.all()[2]["dynamodb"]["SequenceNumber"]  # "c", the parent's last
    assert "EndingSequenceNumber" not in shards[1]["SequenceNumberRange"]
    assert int(shards[1]["SequenceNumberRange"]["StartingSequenceNumber"]) > int(ending)

    # The parent: its remaining record, then no NextShardIterator ("the shard has been closed").
    answer = stream.client.get_records(ShardIterator=reader)
    assert names(answer["Records"]) == ["c"] and "NextShardIterator" not in answer
    latest = stream.client.get_shard_iterator(StreamArn=stream.arn, ShardId=parent,
                                              ShardIteratorType="LATEST")["ShardIterator"]
    answer = stream.client.get_records(ShardIterator=latest)
    assert answer["Records"] == [] and "NextShardIterator" not in answer
    # The child has what was written since.
    child_reader = stream.client.get_shard_iterator(
        StreamArn=stream.arn, ShardId=child, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records, child_reader = stream.read(child_reader)
    assert names(records) == ["d"]
    assert int(records[0]["dynamodb"]["SequenceNumber"]) > int(ending)
    put(ddb, table, "e")
    assert names(stream.read(child_reader)[0]) == ["e"]
    # Paging the shard list.
    rest = stream.client.describe_stream(StreamArn=stream.arn, ExclusiveStartShardId=parent)
    assert [s["ShardId"] for s in rest["StreamDescription"]["Shards"]] == [child]


def test_rollover_refuses_unknown_tables(emulator):
    ddb = emulator.client("dynamodb")
    plain = f"plain-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=plain, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    assert rollover(emulator, "no-such-table")[0] == 404
    assert rollover(emulator, plain)[0] == 404  # no stream
    assert rollover(emulator, "")[0] == 400


# --- cost ---------------------------------------------------------------------------------


def fill(ddb, table, count):
    for start in range(0, count, 100):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table,
                     "Item": {"pk": {"S": f"fill-{n}"}, "body": {"S": "x" * 100}}}}
            for n in range(start, start + 100)])


def read_latest_100(ddb, stream, table, tag):
    """Seconds of one GetRecords of 100 records from LATEST (and of one from TRIM_HORIZON)."""
    iterator = stream.iterator("LATEST")
    for n in range(100):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"late-{tag}-{n}"}})
    started = time.perf_counter()
    records, _ = stream.read(iterator, limit=100)
    latest = time.perf_counter() - started
    assert len(records) == 100
    started = time.perf_counter()
    records, _ = stream.read(stream.iterator(), limit=100)
    horizon = time.perf_counter() - started
    assert len(records) == 100
    return max(latest, horizon)


def test_get_records_cost_does_not_grow_with_the_stream(emulator):
    ddb = emulator.client("dynamodb")
    small, large = make_table(ddb), make_table(ddb)
    fill(ddb, small, 100)
    fill(ddb, large, 20000)
    streams = {small: Stream(emulator, small), large: Stream(emulator, large)}
    times = {small: [], large: []}
    for n in range(5):  # alternated, and medians: a load spike hits both alike
        for table in (small, large):
            times[table].append(read_latest_100(ddb, streams[table], table, n))
    median_small, median_large = (statistics.median(times[t]) for t in (small, large))
    assert median_large < 3 * median_small + 0.01, (
        f"GetRecords of 100: {median_small * 1000:.1f} ms with 100 records in the stream, "
        f"{median_large * 1000:.1f} ms with 20,000")
    assert median_large < 0.5, median_large


# --- in-process (moto's mock_aws, a fake clock): retention, iterator expiry ----------------


@pytest.fixture
def in_process(monkeypatch):
    """moto in this process with the patches, and a clock the test moves."""
    from moto import mock_aws

    from trackses_emulator import dynamodb_streams_patches as patches

    patches.apply()
    now = [time.time()]
    monkeypatch.setattr(patches, "clock", lambda: now[0])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        streams = boto3.client("dynamodbstreams", region_name=REGION)
        yield ddb, streams, now


def in_process_stream(ddb, streams):
    table = make_table(ddb)
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]

    def iterator(kind="TRIM_HORIZON", number=None):
        extra = {"SequenceNumber": number} if number else {}
        return streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind,
                                          **extra)["ShardIterator"]

    iterator.arn, iterator.shard = arn, shard
    return table, iterator


def error_code(call, **params):
    with pytest.raises(ClientError) as raised:
        call(**params)
    return raised.value.response["Error"]["Code"]


def test_records_are_trimmed_after_24_hours(in_process):
    ddb, streams, now = in_process
    table, iterator = in_process_stream(ddb, streams)
    put(ddb, table, "old-1", "old-2")
    stale_horizon = iterator()
    first = streams.get_records(ShardIterator=stale_horizon)["Records"][0]
    now[0] += 23 * 3600
    put(ddb, table, "new")
    now[0] += 3600 + 1  # the first two are now older than 24 hours

    records = streams.get_records(ShardIterator=iterator())["Records"]
    assert names(records) == ["new"]
    assert names(streams.get_records(ShardIterator=iterator("LATEST"))["Records"]) == []
    # Iterators are valid for 15 minutes: the stale one has expired, a fresh one at the trimmed
    # record is refused, and so is the trimmed sequence number.
    assert error_code(streams.get_records, ShardIterator=stale_horizon) == \
        "ExpiredIteratorException"
    number = first["dynamodb"]["SequenceNumber"]
    assert error_code(streams.get_shard_iterator, StreamArn=iterator.arn, ShardId=iterator.shard,
                      ShardIteratorType="AT_SEQUENCE_NUMBER",
                      SequenceNumber=number) == "TrimmedDataAccessException"


def test_an_iterator_behind_the_trim_horizon_is_refused(in_process):
    ddb, streams, now = in_process
    table, iterator = in_process_stream(ddb, streams)
    put(ddb, table, "a")
    now[0] += 24 * 3600 - 60
    horizon = iterator()  # still at "a"
    now[0] += 120  # "a" is trimmed before the iterator is used
    assert error_code(streams.get_records, ShardIterator=horizon) == "TrimmedDataAccessException"


def test_iterators_expire_after_15_minutes(in_process):
    ddb, streams, now = in_process
    table, iterator = in_process_stream(ddb, streams)
    put(ddb, table, "a")
    first = iterator()
    now[0] += 14 * 60
    records = streams.get_records(ShardIterator=first)
    assert names(records["Records"]) == ["a"]
    now[0] += 2 * 60  # `first` is 16 minutes old; the iterator GetRecords gave back is 2
    assert error_code(streams.get_records, ShardIterator=first) == "ExpiredIteratorException"
    put(ddb, table, "b")
    assert names(streams.get_records(
        ShardIterator=records["NextShardIterator"])["Records"]) == ["b"]


def test_lambda_event_source_mappings_get_each_record_once(in_process, monkeypatch):
    """moto's own event source mappings (not used by trackses) are fed new records only."""
    from moto.awslambda.models import LambdaBackend

    ddb, streams, _ = in_process
    sent = []
    monkeypatch.setattr(LambdaBackend, "send_dynamodb_items",
                        lambda self, arn, items, source: sent.append(
                            [i.to_json()["dynamodb"]["Keys"]["pk"]["S"] for i in items]) or "ok")
    table, iterator = in_process_stream(ddb, streams)
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName="esm", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = boto3.client("lambda", region_name=REGION)
    lam.create_function(FunctionName="f", Runtime="python3.12", Role=role, Handler="h.h",
                        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18})
    lam.create_event_source_mapping(EventSourceArn=iterator.arn, FunctionName="f",
                                    StartingPosition="LATEST")
    put(ddb, table, "a", "b")
    assert sent == [["a"], ["b"]]
    # The stream keeps them (moto emptied the shard after each delivery).
    assert names(streams.get_records(ShardIterator=iterator())["Records"]) == ["a", "b"]
