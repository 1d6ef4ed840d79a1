"""DynamoDB under concurrent requests, as the local stack drives it (several webhook calls at once)."""

from concurrent.futures import ThreadPoolExecutor


def test_concurrent_transactions_neither_fail_nor_lose_writes(emulator):
    ddb = emulator.client("dynamodb")
    ddb.create_table(
        TableName="concurrency",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
    )

    def transaction(n):
        client = emulator.client("dynamodb")
        client.transact_write_items(TransactItems=[
            {"Put": {"TableName": "concurrency", "Item": {"pk": {"S": f"item-{n}"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"TableName": "concurrency", "Key": {"pk": {"S": "counter"}},
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(transaction, range(200)))

    counter = ddb.get_item(TableName="concurrency", Key={"pk": {"S": "counter"}})["Item"]
    assert counter["n"]["N"] == "200"
    assert ddb.scan(TableName="concurrency", Select="COUNT")["Count"] == 201
