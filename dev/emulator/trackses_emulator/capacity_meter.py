"""DynamoDB capacity meter: the read and write units AWS would bill for each request, totalled per
table, per index and per operation (moto reports no useful ConsumedCapacity).

  GET           /_trackses/dynamodb/capacity -> 200, JSON totals (below)
  POST, DELETE  /_trackses/dynamodb/capacity -> 204, totals cleared

  {"write_units": 7.0, "read_units": 1.5,
   "tables": {"<table name>": {"write_units": 7.0, "read_units": 1.5,
                               "table": {"write_units": 5.0, "read_units": 1.0},
                               "indexes": {"<index name>": {"write_units": 2.0, "read_units": 0.5}},
                               "writes": {"<operation>": {"requests": 2, "units": 7.0}},
                               "reads": {"<operation>": {"requests": 3, "units": 1.5}}}}}

A table's `write_units` / `read_units` count everything its requests cost, its indexes included
(what on-demand billing charges); `table` is the base table's share. Tables are named as created,
all accounts and regions together. The sizing and pricing rules are in capacity.py.

Metered: PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems (every action,
ConditionCheck included), GetItem, BatchGetItem, TransactGetItems, Query, Scan. A request is billed
when it succeeds and when it fails on a condition (ConditionalCheckFailedException,
TransactionCanceledException), not when it is invalid. Each item a write request names is
snapshotted before and after the request; its cost is capacity.table_write_units and
capacity.index_write_units of the two. An item the request left unchanged (failed condition,
cancelled transaction, ConditionCheck) therefore costs its current size, one unit if absent, and
nothing in its indexes. Query and Scan are billed for the items they read before their filter
(AWS bills those too): the filter moto applies to each item read is wrapped to size the item.
"""

import json
import threading

from moto.dynamodb import models as dynamodb_models
from moto.dynamodb import urls as dynamodb_urls
from moto.dynamodb.responses import DynamoHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from . import capacity
from .dynamodb_patches import lock

PATH = "/_trackses/dynamodb/capacity"
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
GETS = {"GetItem", "BatchGetItem", "TransactGetItems"}
SEARCHES = {"Query", "Scan"}
TRANSACTIONS = {"TransactWriteItems", "TransactGetItems"}
# Failures AWS bills: the write was attempted on the item before its condition failed.
BILLED_ERRORS = {"ConditionalCheckFailedException", "TransactionCanceledException"}

_orig: dict = {}
_totals: dict = {}  # table name -> its totals, as GET reports them
_totals_lock = threading.Lock()
_request = threading.local()  # .read_sizes: item sizes a Query or Scan read, while one runs


# --- metering a request ----------------------------------------------------------------


def _call_action(self: DynamoHandler):
    operation = self._get_action()
    if operation in WRITES:
        meter = _meter_writes
    elif operation in GETS:
        meter = _meter_gets
    elif operation in SEARCHES:
        meter = _meter_search
    else:
        return _orig["call_action"](self)
    # The snapshots and the request must see the same items: no other request in between.
    with lock:
        return meter(self, operation)


def _meter_writes(handler: DynamoHandler, operation: str):
    try:
        items = [_Item(handler.dynamodb_backend, table, key)
                 for table, key in _written(operation, handler.params)]
    except Exception:  # noqa: BLE001 - an invalid request: moto answers it, AWS bills nothing
        return _orig["call_action"](handler)
    before = [item.attrs() for item in items]
    response = _orig["call_action"](handler)
    if _billed(response):
        factor = capacity.TRANSACTION_FACTOR if operation in TRANSACTIONS else 1
        _add(operation, "write", [
            charge for item, attrs in zip(items, before)
            for charge in item.write_charges(attrs, item.attrs(), factor)])
    return response


def _meter_gets(handler: DynamoHandler, operation: str):
    response = _orig["call_action"](handler)
    if _billed(response):
        transactional = operation in TRANSACTIONS
        _add(operation, "read", [
            _Item(handler.dynamodb_backend, table, key).read_charge(consistent, transactional)
            for table, key, consistent in _read(operation, handler.params)])
    return response


def _meter_search(handler: DynamoHandler, operation: str):
    _request.read_sizes = []
    try:
        response = _orig["call_action"](handler)
    finally:
        sizes = _request.read_sizes
        del _request.read_sizes
    if _billed(response):
        params = handler.params
        table = handler.dynamodb_backend.get_table(params["TableName"]).name
        units = capacity.read_units(sum(sizes), params.get("ConsistentRead", False))
        _add(operation, "read", [(table, params.get("IndexName"), units)])
    return response


def _billed(response) -> bool:
    status, _, body = response
    if status == 200:
        return True
    try:  # DynamoDB's JSON errors: {"__type": "com.amazonaws.dynamodb.v20120810#<Error>", ...}
        error = json.loads(body).get("__type", "")
    except (ValueError, AttributeError):
        return False
    return error.rsplit("#", 1)[-1] in BILLED_ERRORS


def _written(operation: str, params: dict):
    """(table, key) of every item a write request writes or checks; a put's key is its item."""
    if operation == "BatchWriteItem":
        for table, requests in params["RequestItems"].items():
            for request in requests:
                put = request.get("PutRequest")
                yield table, put["Item"] if put else request["DeleteRequest"]["Key"]
    elif operation == "TransactWriteItems":
        for action in params["TransactItems"]:
            (op,) = action.values()
            yield op["TableName"], op.get("Item") or op["Key"]
    else:
        yield params["TableName"], params.get("Item") or params["Key"]


def _read(operation: str, params: dict):
    """(table, key, strongly consistent?) of every item a Get request reads."""
    if operation == "BatchGetItem":
        for table, request in params["RequestItems"].items():
            for key in request["Keys"]:
                yield table, key, request.get("ConsistentRead", False)
    elif operation == "TransactGetItems":
        for action in params["TransactItems"]:
            yield action["Get"]["TableName"], action["Get"]["Key"], True
    else:
        yield params["TableName"], params["Key"], params.get("ConsistentRead", False)


class _Item:
    """One item a request names (present or not), in its table."""

    def __init__(self, backend, table_name: str, key: dict):
        self.table = backend.get_table(table_name)  # by name or ARN
        self.key = backend.get_keys_value(self.table, key)

    def attrs(self) -> dict | None:
        """A copy of the item as it is now (moto updates items in place), None if absent."""
        return _wire(self.table.get_item(*self.key))

    def read_charge(self, consistent: bool, transactional: bool) -> tuple:
        """(table, None, units) of reading the item (a missing one costs the minimum)."""
        size = capacity.item_size(self.attrs())
        return self.table.name, None, capacity.read_units(size, consistent, transactional)

    def write_charges(self, before: dict | None, after: dict | None, factor: int) -> list:
        """(table, index or None, units) of the item going from `before` to `after`."""
        charges = [(self.table.name, None, factor * capacity.table_write_units(before, after))]
        for index in _indexes(self.table):
            units = capacity.index_write_units(index, before, after)
            if units:
                charges.append((self.table.name, index.name, factor * units))
        return charges


def _wire(item) -> dict | None:
    if item is None:
        return None
    return {name: value.to_regular_json() for name, value in item.attrs.items()}


def _indexes(table) -> list:
    return [capacity.Index.create(index.name, index.schema_key_attrs, table.table_key_attrs,
                                  index.projection)
            for index in table.all_indexes()]


# --- Query and Scan: the items read ------------------------------------------------------


class _SizingFilter:
    """Stands in for a Query's or Scan's filter: moto applies it once to each item read (index
    entries for an index), after its key conditions and Limit, before the ProjectionExpression."""

    def __init__(self, condition, sizes: list):
        self.condition, self.sizes = condition, sizes

    def expr(self, item) -> bool:
        self.sizes.append(capacity.item_size(_wire(item)))
        return self.condition.expr(item)


def _get_filter_expression(*args, **kwargs):
    condition = _orig["get_filter_expression"](*args, **kwargs)
    sizes = getattr(_request, "read_sizes", None)
    return condition if sizes is None else _SizingFilter(condition, sizes)


# --- totals and their endpoint -------------------------------------------------------------


def _add(operation: str, kind: str, charges: list) -> None:
    """Adds one request's charges, (table, index or None, units), to the totals."""
    units_key = f"{kind}_units"
    by_table: dict = {}
    with _totals_lock:
        for table, index, units in charges:
            totals = _table_totals(table)
            share = totals["indexes"].setdefault(index, _units()) if index else totals["table"]
            share[units_key] += units
            totals[units_key] += units
            by_table[table] = by_table.get(table, 0.0) + units
        for table, units in by_table.items():
            per_operation = _totals[table][f"{kind}s"].setdefault(
                operation, {"requests": 0, "units": 0.0})
            per_operation["requests"] += 1
            per_operation["units"] += units


def _units() -> dict:
    return {"write_units": 0.0, "read_units": 0.0}


def _table_totals(table: str) -> dict:
    return _totals.setdefault(
        table, {**_units(), "table": _units(), "indexes": {}, "writes": {}, "reads": {}})


def _report() -> dict:
    with _totals_lock:
        tables = json.loads(json.dumps(_totals))  # a copy, taken while no request adds to it
    return {"write_units": sum((t["write_units"] for t in tables.values()), 0.0),
            "read_units": sum((t["read_units"] for t in tables.values()), 0.0),
            "tables": tables}


def _endpoint(request, full_url, headers):
    if request.method == "GET":
        return 200, {"Content-Type": "application/json"}, json.dumps(_report())
    if request.method in ("POST", "DELETE"):
        with _totals_lock:
            _totals.clear()
        return 204, {}, ""
    return 405, {"Allow": "GET, POST, DELETE"}, ""


def _infer_service_region_host(self, environ, path):
    """Unsigned requests to the endpoint go to the DynamoDB app, which serves it."""
    if path.rstrip("/") == PATH and not environ.get("HTTP_AUTHORIZATION"):
        return "dynamodb"
    return _orig["infer_service_region_host"](self, environ, path)


def apply() -> None:
    if _orig:
        return

    def patch(owner, name, func):
        _orig[name] = getattr(owner, name)
        setattr(owner, name, func)

    patch(DynamoHandler, "call_action", _call_action)
    # The backend's query and scan look the name up in their module when they run.
    patch(dynamodb_models, "get_filter_expression", _get_filter_expression)
    patch(DomainDispatcherApplication, "infer_service_region_host", _infer_service_region_host)
    dynamodb_urls.url_paths["{0}" + PATH + "$"] = _endpoint
