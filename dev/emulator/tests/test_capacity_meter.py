"""The emulator's DynamoDB capacity meter, GET/POST/DELETE /_trackses/dynamodb/capacity: the units
AWS's documentation bills for each request ("DynamoDB read and write operations", "Capacity
management for transactions", "Managing settings on DynamoDB provisioned capacity tables", the
write capacity units of global secondary indexes), per table, index and operation. Item sizes are
worked out here from "DynamoDB item sizes and formats": a string attribute is the UTF-8 bytes of
its name plus those of its value. Each test uses its own tables: the emulator is shared."""

import json
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

KB = 1024
ENDPOINT = "/_trackses/dynamodb/capacity"


def meter(emulator, method="GET"):
    request = urllib.request.Request(f"{emulator.base}{ENDPOINT}", method=method)
    with urllib.request.urlopen(request) as response:  # unsigned, like curl
        body = response.read()
        return response.status, json.loads(body) if body else None


def totals(emulator, table) -> dict:
    return meter(emulator)[1]["tables"][table]


def make_table(ddb, gsi_projection=None) -> str:
    """A table keyed by pk; with a projection, also a GSI gsi1 keyed by gpk and gsk."""
    name = f"cap-{uuid.uuid4().hex[:8]}"
    keys = ["pk", "gpk", "gsk"] if gsi_projection else ["pk"]
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": k, "AttributeType": "S"} for k in keys],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        **({"GlobalSecondaryIndexes": [{
            "IndexName": "gsi1",
            "KeySchema": [{"AttributeName": "gpk", "KeyType": "HASH"},
                          {"AttributeName": "gsk", "KeyType": "RANGE"}],
            "Projection": gsi_projection,
        }]} if gsi_projection else {}),
    )
    return name


def sized(size: int, **attrs) -> dict:
    """An item of `size` bytes: the string attributes given (pk among them), and "pad"."""
    used = sum(len(name) + len(value) for name, value in attrs.items()) + len("pad")
    assert size >= used
    strings = {name: {"S": value} for name, value in attrs.items()}
    return {**strings, "pad": {"S": "x" * (size - used)}}


def key(pk):
    return {"pk": {"S": pk}}


@pytest.fixture
def ddb(emulator):
    return emulator.client("dynamodb")


# --- writes ----------------------------------------------------------------------------------


def test_put_item_costs_a_unit_per_started_kb(emulator, ddb):
    table = make_table(ddb)
    ddb.put_item(TableName=table, Item=sized(500, pk="small"))
    assert totals(emulator, table)["write_units"] == 1
    ddb.put_item(TableName=table, Item=sized(int(1.5 * KB), pk="big"))
    got = totals(emulator, table)
    assert got["write_units"] == 1 + 2
    assert got["table"]["write_units"] == 3
    assert got["writes"] == {"PutItem": {"requests": 2, "units": 3}}
    assert got["indexes"] == {} and got["read_units"] == 0


def test_put_over_an_item_costs_the_larger_of_the_two(emulator, ddb):
    table = make_table(ddb)
    ddb.put_item(TableName=table, Item=sized(int(2.5 * KB), pk="a"))
    ddb.put_item(TableName=table, Item=sized(100, pk="a"))
    assert totals(emulator, table)["writes"]["PutItem"]["units"] == 3 + 3


def test_update_growing_an_item_past_1_kb_costs_2(emulator, ddb):
    table = make_table(ddb)
    item = sized(int(0.9 * KB), pk="a")
    ddb.put_item(TableName=table, Item=item)
    grown = int(1.1 * KB) - int(0.9 * KB) - len("more")
    ddb.update_item(TableName=table, Key=key("a"), UpdateExpression="SET more = :m",
                    ExpressionAttributeValues={":m": {"S": "y" * grown}})
    assert totals(emulator, table)["writes"] == {
        "PutItem": {"requests": 1, "units": 1}, "UpdateItem": {"requests": 1, "units": 2}}


def test_update_of_a_missing_item_costs_the_item_it_creates(emulator, ddb):
    table = make_table(ddb)
    ddb.update_item(TableName=table, Key=key("new"), UpdateExpression="SET #p = :p",
                    ExpressionAttributeNames={"#p": "pad"},  # a reserved word
                    ExpressionAttributeValues={":p": {"S": "x" * int(1.2 * KB)}})
    assert totals(emulator, table)["write_units"] == 2


def test_delete_costs_the_deleted_item_and_one_unit_when_nothing_is_there(emulator, ddb):
    table = make_table(ddb)
    ddb.put_item(TableName=table, Item=sized(int(2.5 * KB), pk="a"))
    ddb.delete_item(TableName=table, Key=key("a"))
    ddb.delete_item(TableName=table, Key=key("a"))
    assert totals(emulator, table)["writes"]["DeleteItem"] == {"requests": 2, "units": 3 + 1}


def test_batch_write_rounds_each_item(emulator, ddb):
    table = make_table(ddb)
    ddb.batch_write_item(RequestItems={table: [
        {"PutRequest": {"Item": sized(500, pk="a")}},
        {"PutRequest": {"Item": sized(int(3.5 * KB), pk="b")}},
    ]})
    assert totals(emulator, table)["writes"] == {"BatchWriteItem": {"requests": 1, "units": 5}}


def test_a_transaction_of_two_500_byte_puts_costs_4(emulator, ddb):
    table = make_table(ddb)
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": sized(500, pk="a")}},
        {"Put": {"TableName": table, "Item": sized(500, pk="b")}},
    ])
    assert totals(emulator, table)["writes"] == {
        "TransactWriteItems": {"requests": 1, "units": 4}}


def test_a_condition_check_in_a_transaction_costs_a_transactional_write(emulator, ddb):
    table = make_table(ddb)
    ddb.put_item(TableName=table, Item=sized(int(1.5 * KB), pk="checked"))
    ddb.transact_write_items(TransactItems=[
        {"ConditionCheck": {"TableName": table, "Key": key("checked"),
                            "ConditionExpression": "attribute_exists(pk)"}},
        {"Put": {"TableName": table, "Item": sized(500, pk="b")}},
    ])
    assert totals(emulator, table)["writes"]["TransactWriteItems"]["units"] == 2 * 2 + 2 * 1


def test_a_failed_conditional_put_is_charged_by_the_item_there(emulator, ddb):
    table = make_table(ddb)
    ddb.put_item(TableName=table, Item=sized(int(1.5 * KB), pk="a"))
    with pytest.raises(ClientError, match="ConditionalCheckFailedException"):
        ddb.put_item(TableName=table, Item=sized(100, pk="a"),
                     ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ClientError, match="ConditionalCheckFailedException"):
        ddb.put_item(TableName=table, Item=sized(int(2.5 * KB), pk="missing"),
                     ConditionExpression="attribute_exists(pk)")
    assert totals(emulator, table)["writes"]["PutItem"] == {"requests": 3, "units": 2 + 2 + 1}


def test_a_cancelled_transaction_is_charged_but_writes_nothing(emulator, ddb):
    table = make_table(ddb, {"ProjectionType": "ALL"})
    ddb.put_item(TableName=table, Item=sized(500, pk="taken"))
    with pytest.raises(ClientError, match="TransactionCanceledException"):
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": table, "Item": sized(int(1.5 * KB), pk="b", gpk="g", gsk="s")}},
            {"Put": {"TableName": table, "Item": sized(500, pk="taken"),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
        ])
    got = totals(emulator, table)
    # Each action as a failed conditional write, doubled: b was absent, "taken" is 500 bytes.
    assert got["writes"]["TransactWriteItems"] == {"requests": 1, "units": 2 * 1 + 2 * 1}
    assert got["indexes"] == {}


def test_an_invalid_request_is_not_charged(emulator, ddb):
    table = make_table(ddb)
    with pytest.raises(ClientError, match="ValidationException"):
        ddb.put_item(TableName=table, Item={"pk": {"N": "1"}})  # pk is a string
    assert table not in meter(emulator)[1]["tables"]


# --- global secondary indexes ------------------------------------------------------------------


def test_a_put_into_an_all_projected_gsi_costs_one_more_write(emulator, ddb):
    table = make_table(ddb, {"ProjectionType": "ALL"})
    ddb.put_item(TableName=table, Item=sized(500, pk="a", gpk="g", gsk="s"))
    got = totals(emulator, table)
    assert got["table"]["write_units"] == 1
    assert got["indexes"] == {"gsi1": {"write_units": 1, "read_units": 0}}
    assert got["write_units"] == 1 + 1
    assert got["writes"] == {"PutItem": {"requests": 1, "units": 2}}


def test_a_keys_only_gsi_costs_its_projected_size(emulator, ddb):
    table = make_table(ddb, {"ProjectionType": "KEYS_ONLY"})
    ddb.put_item(TableName=table, Item=sized(int(2.5 * KB), pk="a", gpk="g", gsk="s"))
    got = totals(emulator, table)
    assert got["table"]["write_units"] == 3
    assert got["indexes"]["gsi1"]["write_units"] == 1  # pk, gpk, gsk: a few bytes


def test_an_include_gsi_costs_its_included_attributes(emulator, ddb):
    table = make_table(ddb, {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["pad"]})
    item = {**sized(int(1.5 * KB), pk="a", gpk="g", gsk="s"), "other": {"S": "z" * 2 * KB}}
    ddb.put_item(TableName=table, Item=item)
    got = totals(emulator, table)
    assert got["table"]["write_units"] == 4  # 1.5 KB + 2 KB and a bit
    assert got["indexes"]["gsi1"]["write_units"] == 2  # the 1.5 KB without "other"


def test_an_item_without_gsi_keys_costs_the_gsi_nothing(emulator, ddb):
    table = make_table(ddb, {"ProjectionType": "ALL"})
    ddb.put_item(TableName=table, Item=sized(500, pk="a", gpk="g"))  # no gsk
    assert totals(emulator, table)["indexes"] == {}


def test_an_update_changing_a_gsi_key_deletes_and_puts_in_the_gsi(emulator, ddb):
    table = make_table(ddb, {"ProjectionType": "ALL"})
    ddb.put_item(TableName=table, Item=sized(500, pk="a", gpk="g", gsk="s"))
    ddb.update_item(TableName=table, Key=key("a"), UpdateExpression="SET gsk = :t",
                    ExpressionAttributeValues={":t": {"S": "t"}})
    got = totals(emulator, table)
    assert got["writes"]["UpdateItem"] == {"requests": 1, "units": 1 + 2}
    assert got["indexes"]["gsi1"]["write_units"] == 1 + 2


def test_an_item_leaving_a_gsi_costs_one_write_there(emulator, ddb):
    table = make_table(ddb, {"ProjectionType": "ALL"})
    ddb.put_item(TableName=table, Item=sized(500, pk="a", gpk="g", gsk="s"))
    ddb.update_item(TableName=table, Key=key("a"), UpdateExpression="REMOVE gsk")
    assert totals(emulator, table)["writes"]["UpdateItem"]["units"] == 1 + 1


def test_an_update_outside_a_keys_only_projection_costs_the_gsi_nothing(emulator, ddb):
    table = make_table(ddb, {"ProjectionType": "KEYS_ONLY"})
    ddb.put_item(TableName=table, Item=sized(500, pk="a", gpk="g", gsk="s"))
    ddb.update_item(TableName=table, Key=key("a"), UpdateExpression="SET note = :o",
                    ExpressionAttributeValues={":o": {"S": "o"}})
    assert totals(emulator, table)["writes"]["UpdateItem"]["units"] == 1


def test_a_transactional_gsi_write_is_doubled_too(emulator, ddb):
    table = make_table(ddb, {"ProjectionType": "ALL"})
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": table, "Item": sized(500, pk="a", gpk="g", gsk="s")}}])
    got = totals(emulator, table)
    assert got["table"]["write_units"] == 2
    assert got["indexes"]["gsi1"]["write_units"] == 2


# --- reads -----------------------------------------------------------------------------------


def test_get_item_costs_half_a_unit_per_4_kb_unless_strongly_consistent(emulator, ddb):
    table = make_table(ddb)
    ddb.put_item(TableName=table, Item=sized(5 * KB, pk="a"))
    ddb.get_item(TableName=table, Key=key("a"))
    ddb.get_item(TableName=table, Key=key("a"), ConsistentRead=True)
    ddb.get_item(TableName=table, Key=key("missing"))
    assert totals(emulator, table)["reads"] == {
        "GetItem": {"requests": 3, "units": 1 + 2 + 0.5}}


def test_batch_get_and_transact_get_round_each_item(emulator, ddb):
    table = make_table(ddb)
    ddb.put_item(TableName=table, Item=sized(int(1.5 * KB), pk="a"))
    ddb.put_item(TableName=table, Item=sized(int(6.5 * KB), pk="b"))
    ddb.batch_get_item(RequestItems={table: {"Keys": [key("a"), key("b")],
                                             "ConsistentRead": True}})
    ddb.transact_get_items(TransactItems=[{"Get": {"TableName": table, "Key": key("a")}}])
    assert totals(emulator, table)["reads"] == {
        "BatchGetItem": {"requests": 1, "units": 1 + 2},
        "TransactGetItems": {"requests": 1, "units": 2}}


def test_query_and_scan_cost_every_item_read_filtered_or_not(emulator, ddb):
    table = make_table(ddb)
    for pk in ("a", "b", "c"):
        ddb.put_item(TableName=table, Item=sized(3 * KB, pk=pk))
    found = ddb.scan(TableName=table, FilterExpression="pk = :a",
                     ExpressionAttributeValues={":a": {"S": "a"}}, ConsistentRead=True)
    assert found["Count"] == 1
    ddb.query(TableName=table, KeyConditionExpression="pk = :a",
              ExpressionAttributeValues={":a": {"S": "a"}})
    assert totals(emulator, table)["reads"] == {
        "Scan": {"requests": 1, "units": 3},  # 9 KB, strongly consistent
        "Query": {"requests": 1, "units": 0.5}}


def test_a_gsi_query_is_billed_to_the_gsi(emulator, ddb):
    table = make_table(ddb, {"ProjectionType": "KEYS_ONLY"})
    for pk in ("a", "b"):
        ddb.put_item(TableName=table, Item=sized(3 * KB, pk=pk, gpk="g", gsk=pk))
    ddb.query(TableName=table, IndexName="gsi1", KeyConditionExpression="gpk = :g",
              ExpressionAttributeValues={":g": {"S": "g"}})
    got = totals(emulator, table)
    assert got["indexes"]["gsi1"]["read_units"] == 0.5  # two small index entries
    assert got["table"]["read_units"] == 0


# --- the totals ----------------------------------------------------------------------------


def test_totals_are_per_table(emulator, ddb):
    first, second = make_table(ddb), make_table(ddb)
    ddb.put_item(TableName=first, Item=sized(500, pk="a"))
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": first, "Item": sized(500, pk="b")}},
        {"Put": {"TableName": second, "Item": sized(int(1.5 * KB), pk="c")}},
    ])
    report = meter(emulator)[1]
    assert report["tables"][first]["writes"] == {
        "PutItem": {"requests": 1, "units": 1},
        "TransactWriteItems": {"requests": 1, "units": 2}}
    assert report["tables"][second]["writes"] == {
        "TransactWriteItems": {"requests": 1, "units": 4}}
    assert report["write_units"] == sum(t["write_units"] for t in report["tables"].values())


def test_a_table_named_by_arn_is_totalled_under_its_name(emulator, ddb):
    table = make_table(ddb)
    arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]
    ddb.put_item(TableName=arn, Item=sized(500, pk="a"))
    assert totals(emulator, table)["write_units"] == 1


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_reset(emulator, ddb, method):
    table = make_table(ddb)
    ddb.put_item(TableName=table, Item=sized(500, pk="a"))
    assert meter(emulator, method) == (204, None)
    assert meter(emulator)[1] == {"write_units": 0, "read_units": 0, "tables": {}}
    ddb.put_item(TableName=table, Item=sized(500, pk="b"))
    assert totals(emulator, table)["writes"] == {"PutItem": {"requests": 1, "units": 1}}
