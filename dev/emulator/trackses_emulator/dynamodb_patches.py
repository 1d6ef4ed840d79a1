"""DynamoDB: one request at a time, and transactions that roll back only the items they wrote.

moto's DynamoDB backend is not thread-safe, and moto's server answers on many threads: concurrent
requests failed with "dictionary changed size during iteration" (HTTP 500). Real DynamoDB
serialises conflicting writes; serialising every request is the simple equivalent.

moto's TransactWriteItems deep-copies every table a transaction names, once per action, so that it
can roll back: a webhook request's transaction went from 80 ms to 550 ms as the local table grew to
~3,000 items. Here a transaction copies only the items it writes, before writing each, and a
cancelled one puts back exactly those (an item it created is deleted again) and drops the stream
records it added. moto keeps no index storage (secondary indexes are read off the items at query
time), so GSIs and LSIs follow the items.

Otherwise moto's semantics are kept: each action's condition is checked against the item as it
was before the transaction (an item is touched once), a failed one cancels the transaction with
one reason per action in request order (`ConditionalCheckFailed`, with the item under
ReturnValuesOnConditionCheckFailure=ALL_OLD; `None` for the others), two actions on one item are
a ValidationException, and ClientRequestToken is ignored (moto has no idempotency tokens). Two
actions on one item are caught even when one names the table by its ARN (moto compared the names
as given).
"""

import copy
import threading

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler

lock = threading.RLock()  # also taken by capacity_meter, around its snapshots of a request's items
_original_call_action = None

ACTIONS = {"ConditionCheck", "Put", "Delete", "Update"}
SUCCEEDED = (None, None, None)  # an action's cancellation reason when nothing went wrong with it
CONDITION_FAILED = ("ConditionalCheckFailed", "The conditional request failed")  # DynamoDB's words


def apply() -> None:
    global _original_call_action
    if _original_call_action is not None:
        return
    _original_call_action = DynamoHandler.call_action

    def call_action(self):
        with lock:
            return _original_call_action(self)

    DynamoHandler.call_action = call_action
    DynamoDBBackend.transact_write_items = _backend_transact_write_items


def _backend_transact_write_items(self: DynamoDBBackend, transact_items: list) -> None:
    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    undo = _Undo()
    targets = set()
    try:
        reasons = [_act(self, action, targets, undo) for action in transact_items]
    except MockValidationException:
        # The request itself is invalid (two actions on one item, a bad value): nothing applies.
        undo.run()
        raise
    if any(code is not None for code, _, _ in reasons):
        undo.run()
        raise TransactionCanceledException(reasons)


def _act(backend: DynamoDBBackend, action: dict, targets: set, undo: "_Undo") -> tuple:
    """Checks and applies one action; its cancellation reason (code, message, item)."""
    if len(action) > 1:
        raise TransactWriteSingleOpException()
    kind, op = next(iter(action.items()))
    try:
        if kind not in ACTIONS:
            raise ValueError("Unsupported transaction operation")
        table = backend.get_table(op["TableName"])
        hash_key, range_key = _item_key(backend, table, kind, op)
        _claim(targets, table, hash_key, range_key)
        current = table.get_item(hash_key, range_key)
        if not _condition_holds(op, current):
            return (*CONDITION_FAILED, _old_item(op, current))
        if kind != "ConditionCheck":
            undo.remember(table, hash_key, range_key, current)
            _write(backend, kind, op)
    except MockValidationException:
        raise
    except Exception as e:  # as moto: any other failure is this action's reason, named by its type
        return (type(e).__name__, str(e), None)
    return SUCCEEDED


def _item_key(backend: DynamoDBBackend, table, kind: str, op: dict) -> tuple:
    """The (hash, range) key of the item an action targets; a Put's is in its Item."""
    if kind == "Put":
        keys = {name: op["Item"][name] for name in table.table_key_attrs}
    else:
        keys = op["Key"]
    return backend.get_keys_value(table, keys)


def _claim(targets: set, table, hash_key, range_key) -> None:
    """Records that this transaction targets the item; a second action on it is invalid. The table
    is resolved first, so naming it once by name and once by ARN is still the same item."""
    target = (table.name, hash_key, range_key)
    if target in targets:
        raise MultipleTransactionsException()
    targets.add(target)


def _condition_holds(op: dict, current) -> bool:
    """The ConditionExpression (true if none) on the item as it was before the transaction."""
    return get_filter_expression(
        op.get("ConditionExpression"),
        op.get("ExpressionAttributeNames"),
        op.get("ExpressionAttributeValues"),
    ).expr(current)


def _old_item(op: dict, current) -> dict | None:
    """The failed action's item for its cancellation reason, if asked for and it exists."""
    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current is not None:
        return current.to_json()["Attributes"]
    return None


def _write(backend: DynamoDBBackend, kind: str, op: dict) -> None:
    """Applies a Put, Delete or Update whose condition already held (so none is passed again)."""
    if kind == "Put":
        backend.put_item(op["TableName"], op["Item"])
    elif kind == "Delete":
        backend.delete_item(op["TableName"], op["Key"])
    else:
        backend.update_item(
            op["TableName"],
            op["Key"],
            update_expression=op["UpdateExpression"],
            expression_attribute_names=op.get("ExpressionAttributeNames"),
            expression_attribute_values=op.get("ExpressionAttributeValues"),
        )


class _Undo:
    """What a transaction's writes replaced, to put it back if the transaction is cancelled."""

    def __init__(self):
        self.steps = []  # (table, hash key, range key, item before or None, stream length before)

    def remember(self, table, hash_key, range_key, item) -> None:
        """Called before each write. The item is copied: UpdateItem changes it in place."""
        shard = table.stream_shard
        self.steps.append((table, hash_key, range_key, copy.deepcopy(item),
                           None if shard is None else len(shard.items)))

    def run(self) -> None:
        # Backwards, so a table's stream ends at its length before the transaction's first write.
        # Records a Lambda event source mapping already took (moto then empties the shard) stay
        # delivered: deleting past the end deletes nothing.
        for table, hash_key, range_key, item, stream_length in reversed(self.steps):
            _put_back(table, hash_key, range_key, item)
            if stream_length is not None:
                del table.stream_shard.items[stream_length:]


def _put_back(table, hash_key, range_key, item) -> None:
    """Stores `item` under its key in moto's Table.items ({hash: item}, or {hash: {range: item}}
    with a sort key), or removes whatever is there when the item did not exist."""
    if table.has_range_key:
        items, slot = table.items[hash_key], range_key
    else:
        items, slot = table.items, hash_key
    if item is None:
        items.pop(slot, None)
    else:
        items[slot] = item
