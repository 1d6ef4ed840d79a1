"""TransactWriteItems as AWS documents it (API reference: TransactWriteItems, CancellationReason):
all actions succeed or none does; no two actions may target the same item; a cancelled
transaction lists one reason per action, in request order, `None` where nothing went wrong and
the item with ReturnValuesOnConditionCheckFailure=ALL_OLD. The table is shaped like trackses'
(pk/sk, GSI gsi1). Each test uses its own tables: the emulator is shared by the session."""

import statistics
import time
import uuid

import pytest
from botocore.exceptions import ClientError


def make_table(ddb, stream=False):
    name = f"tx-{uuid.uuid4().hex[:8]}"
    keys = ("pk", "sk", "gsi1pk", "gsi1sk")
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "gsi1",
            "KeySchema": [{"AttributeName": "gsi1pk", "KeyType": "HASH"},
                          {"AttributeName": "gsi1sk", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "ALL"},
        }],
        BillingMode="PAY_PER_REQUEST",
        **({"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
           if stream else {}),
    )
    return name


def item(pk, **attrs):
    """An item of partition `pk` (sk "item"); attributes are strings."""
    return {"pk": {"S": pk}, "sk": {"S": "item"}, **{k: {"S": v} for k, v in attrs.items()}}


def key(pk):
    return {"pk": {"S": pk}, "sk": {"S": "item"}}


def seed(ddb, table):
    """A, B, C indexed in gsi1 under "g"; every action of the transactions below targets one."""
    items = {"A": item("A", status="old", gsi1pk="g", gsi1sk="a"),
             "B": item("B", gsi1pk="g", gsi1sk="b"),
             "C": item("C", version="1", gsi1pk="g", gsi1sk="c")}
    for attrs in items.values():
        ddb.put_item(TableName=table, Item=attrs)
    return items


def put_new(table, condition="attribute_not_exists(pk)"):
    return {"Put": {"TableName": table, "Item": item("N", gsi1pk="g", gsi1sk="n"),
                    "ConditionExpression": condition}}


def update_a(table):
    return {"Update": {"TableName": table, "Key": key("A"),
                       "UpdateExpression": "SET #s = :new, gsi1sk = :z",
                       "ExpressionAttributeNames": {"#s": "status"},
                       "ExpressionAttributeValues": {":new": {"S": "new"}, ":z": {"S": "z"}}}}


def delete_b(table):
    return {"Delete": {"TableName": table, "Key": key("B")}}


def check_c(table, version):
    return {"ConditionCheck": {"TableName": table, "Key": key("C"),
                               "ConditionExpression": "version = :v",
                               "ExpressionAttributeValues": {":v": {"S": version}}}}


def get(ddb, table, pk):
    return ddb.get_item(TableName=table, Key=key(pk), ConsistentRead=True).get("Item")


def gsi_keys(ddb, table):
    """The gsi1 sort keys under "g", in index order."""
    found = ddb.query(TableName=table, IndexName="gsi1", KeyConditionExpression="gsi1pk = :g",
                      ExpressionAttributeValues={":g": {"S": "g"}})["Items"]
    return [i["gsi1sk"]["S"] for i in found]


def cancelled(ddb, items):
    with pytest.raises(ClientError) as raised:
        ddb.transact_write_items(TransactItems=items)
    assert raised.value.response["Error"]["Code"] == "TransactionCanceledException"
    return raised.value.response["CancellationReasons"]


def assert_untouched(ddb, table, before):
    assert get(ddb, table, "N") is None
    for pk, attrs in before.items():
        assert get(ddb, table, pk) == attrs
    assert gsi_keys(ddb, table) == ["a", "b", "c"]
    assert ddb.scan(TableName=table, Select="COUNT")["Count"] == 3


# Each kind of action as the failing last one, on the item C, with its condition's failure.
FAILING_LAST = {
    "ConditionCheck": lambda t: check_c(t, "2"),
    "Put": lambda t: {"Put": {"TableName": t, "Item": item("C", version="2"),
                              "ConditionExpression": "attribute_not_exists(pk)"}},
    "Update": lambda t: {"Update": {"TableName": t, "Key": key("C"),
                                    "UpdateExpression": "SET version = :two",
                                    "ConditionExpression": "version = :zero",
                                    "ExpressionAttributeValues": {":two": {"S": "2"},
                                                                  ":zero": {"S": "0"}}}},
    "Delete": lambda t: {"Delete": {"TableName": t, "Key": key("C"),
                                    "ConditionExpression": "attribute_not_exists(version)"}},
}


@pytest.mark.parametrize("action", FAILING_LAST)
def test_failing_last_condition_cancels_every_action(emulator, action):
    ddb = emulator.client("dynamodb")
    table = make_table(ddb)
    before = seed(ddb, table)
    failing = FAILING_LAST[action](table)
    failing[action]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"

    reasons = cancelled(ddb, [put_new(table), update_a(table), delete_b(table), failing])

    assert [r["Code"] for r in reasons] == ["None", "None", "None", "ConditionalCheckFailed"]
    assert [r.get("Item") for r in reasons] == [None, None, None, before["C"]]
    assert_untouched(ddb, table, before)


def test_failed_condition_without_all_old_returns_no_item(emulator):
    ddb = emulator.client("dynamodb")
    table = make_table(ddb)
    before = seed(ddb, table)

    reasons = cancelled(ddb, [check_c(table, "2"), put_new(table), update_a(table)])

    assert [r["Code"] for r in reasons] == ["ConditionalCheckFailed", "None", "None"]
    assert all("Item" not in r for r in reasons)
    assert_untouched(ddb, table, before)


def test_successful_transaction_applies_every_action(emulator):
    ddb = emulator.client("dynamodb")
    table = make_table(ddb)
    before = seed(ddb, table)

    ddb.transact_write_items(TransactItems=[
        put_new(table), update_a(table), delete_b(table), check_c(table, "1")])

    assert get(ddb, table, "N") == item("N", gsi1pk="g", gsi1sk="n")
    assert get(ddb, table, "A")["status"] == {"S": "new"}
    assert get(ddb, table, "B") is None
    assert get(ddb, table, "C") == before["C"]
    assert gsi_keys(ddb, table) == ["c", "n", "z"]


@pytest.mark.parametrize("second_name", ["name", "arn"])
def test_two_actions_on_one_item_are_rejected_and_nothing_applies(emulator, second_name):
    ddb = emulator.client("dynamodb")
    table = make_table(ddb)
    before = seed(ddb, table)
    # TableName may also be the table's ARN: the same item however it is named.
    same_table = table if second_name == "name" else (
        ddb.describe_table(TableName=table)["Table"]["TableArn"])

    with pytest.raises(ClientError) as raised:
        ddb.transact_write_items(TransactItems=[
            put_new(table), update_a(table), delete_b(table), check_c(table, "1"),
            {"Update": {"TableName": same_table, "Key": key("B"),
                        "UpdateExpression": "SET x = :x",
                        "ExpressionAttributeValues": {":x": {"S": "x"}}}}])

    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "multiple operations on one item" in raised.value.response["Error"]["Message"]
    assert_untouched(ddb, table, before)


def test_cancelled_transaction_on_a_table_without_sort_key_changes_nothing(emulator):
    ddb = emulator.client("dynamodb")
    table = f"tx-{uuid.uuid4().hex[:8]}"
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    kept, gone = {"pk": {"S": "kept"}, "n": {"S": "1"}}, {"pk": {"S": "gone"}}
    for attrs in (kept, gone):
        ddb.put_item(TableName=table, Item=attrs)

    reasons = cancelled(ddb, [
        {"Put": {"TableName": table, "Item": {"pk": {"S": "new"}}}},
        {"Update": {"TableName": table, "Key": {"pk": {"S": "kept"}},
                    "UpdateExpression": "SET n = :two",
                    "ExpressionAttributeValues": {":two": {"S": "2"}}}},
        {"Delete": {"TableName": table, "Key": {"pk": {"S": "gone"}},
                    "ConditionExpression": "attribute_not_exists(pk)"}},
    ])

    assert [r["Code"] for r in reasons] == ["None", "None", "ConditionalCheckFailed"]
    items = ddb.scan(TableName=table, ConsistentRead=True)["Items"]
    assert sorted(items, key=lambda i: i["pk"]["S"]) == [gone, kept]


def stream_events(emulator, table):
    ddb = emulator.client("dynamodb")
    streams = emulator.client("dynamodbstreams")
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    return [r["eventName"] for r in streams.get_records(ShardIterator=iterator)["Records"]]


def test_cancelled_transaction_leaves_no_stream_records(emulator):
    ddb = emulator.client("dynamodb")
    table = make_table(ddb, stream=True)
    seed(ddb, table)

    cancelled(ddb, [put_new(table), update_a(table), delete_b(table), check_c(table, "2")])
    assert stream_events(emulator, table) == ["INSERT"] * 3

    ddb.transact_write_items(TransactItems=[put_new(table), update_a(table), delete_b(table)])
    assert stream_events(emulator, table) == ["INSERT"] * 3 + ["INSERT", "MODIFY", "REMOVE"]


def fill(ddb, table, count):
    """`count` items of about 200 bytes, 25 to a BatchWriteItem as AWS allows."""
    rows = [{"PutRequest": {"Item": item(f"filler-{n:05}", body="x" * 150,
                                         gsi1pk=f"filler-{n % 50}", gsi1sk=f"{n:05}")}}
            for n in range(count)]
    for start in range(0, count, 25):
        assert not ddb.batch_write_item(
            RequestItems={table: rows[start:start + 25]})["UnprocessedItems"]


def transact_once(ddb, table, n):
    """One small transaction as a webhook request makes it: a new event, a counter; its seconds."""
    started = time.perf_counter()
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": item(f"event-{n}", gsi1pk="events", gsi1sk=f"{n:03}"),
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": table, "Key": key("counter"), "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
    ])
    return time.perf_counter() - started


def test_transaction_time_does_not_grow_with_the_table(emulator):
    ddb = emulator.client("dynamodb")
    small, large = make_table(ddb), make_table(ddb)
    fill(ddb, small, 200)
    fill(ddb, large, 5000)
    transact_once(ddb, small, -1)  # the connection and moto's first-request work, untimed
    transact_once(ddb, large, -1)

    # Alternated, and medians: a load spike on this shared machine hits both tables alike.
    times = {small: [], large: []}
    for n in range(20):
        for table in (small, large):
            times[table].append(transact_once(ddb, table, n))
    median_small, median_large = (statistics.median(times[t]) for t in (small, large))

    assert median_large < 3 * median_small, (
        f"median transaction: {median_small * 1000:.1f} ms with 200 items, "
        f"{median_large * 1000:.1f} ms with 5,000")
