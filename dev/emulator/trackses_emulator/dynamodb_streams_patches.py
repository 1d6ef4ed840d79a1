"""DynamoDB Streams as AWS documents them (API reference: DescribeStream, GetShardIterator,
GetRecords, Record, StreamRecord; Developer Guide: "Change data capture for DynamoDB Streams").

What moto 5.2.5 got wrong, and what this module does instead:
- Records: `awsRegion` was always us-east-1 (now the table's region), `eventVersion` "1.0" (now
  "1.1", as AWS sends), `ApproximateCreationDateTime` carried milliseconds (now whole epoch
  seconds: AWS rounds down to the second; a JSON number either way), `SizeBytes` was the length of
  moto's JSON (now the DynamoDB item sizes of Keys, NewImage and OldImage added up,
  capacity.item_size: AWS documents only "the size of the stream record, in bytes", and published
  records match this sum; binary values count their base64 text).
- Which writes make a record: an UpdateItem creating an item wrote two INSERTs (a keys-only one,
  then the real one); a PutItem or UpdateItem that changed nothing wrote a MODIFY (AWS: "does not
  write a stream record"). Now every write request makes at most one record per item it changed:
  a write's records are collected while it runs and published when it succeeds (one per item,
  from the item before the request to the item after it), so a request that fails (a condition, a
  validation error half-way, a cancelled TransactWriteItems) publishes nothing. A transaction's
  records are published together when it commits.
- Sequence numbers: moto numbered records by their index in a list that its Lambda event source
  mapping emptied, so numbers repeated. Now a shard's numbers start from its creation time in
  milliseconds × 10⁹ (22 digits, within AWS's 21-40) and grow by one per record, never reused.
  The shard id is AWS-shaped from the creation time too (`shardId-<20 digits>-<8 hex>`), and the
  stream label has AWS's millisecond precision.
- Retention: moto kept every record forever, and every shard iterator it handed out (a 630-byte
  object per GetRecords). Records older than 24 hours are trimmed (TrimmedDataAccessException
  for an iterator or sequence number behind the trim point, as documented); iterators are
  stateless strings (the stream ARN, `|1|`, base64 of shard, position and issue time) that expire
  15 minutes after they were handed out (ExpiredIteratorException).
- GetShardIterator: a wrong ShardId, a missing SequenceNumber, an unknown iterator type answered
  an HTML 500 (an `assert`, a TypeError); now ResourceNotFoundException / ValidationException. A
  SequenceNumber must be one this shard handed out. GetRecords: an unknown or malformed iterator
  answered a 500 (KeyError); now ValidationException. `Limit` must be 1-1000 (ValidationException)
  and a response holds at most 1 MB of records (the sum of their JSON), at least one.
- GetRecords finds its first record by bisection and renders records from JSON made once at write
  time, so its cost depends on what it returns, not on how many records the stream holds.
- moto's own Lambda event source mappings (table.lambda_event_source_mappings) are still fed,
  each record once (moto re-sent the whole shard and then emptied it).

Shards: a stream has one open shard. DynamoDB closes shards and opens children on its own ("Shards
are ephemeral"; "Because shards have a lineage (parent and children), an application must always
process a parent shard before it processes a child shard"); the emulator does so only when asked,
`POST /_trackses/dynamodb/streams/rollover {"table": <name or ARN>}`: the open shard gets its
EndingSequenceNumber, a child with ParentShardId takes the new records (its sequence numbers above
the parent's), DescribeStream lists both, oldest first, and GetRecords on the closed shard returns
no NextShardIterator once it has returned the shard's last record. Closed shards are listed for
24 hours.

The stream and the table are read under dynamodb_patches.lock, so a GetRecords never sees half of
a request's records. Not emulated: shard splits (one child per parent), automatic rollover,
stream records of TTL deletions (moto deletes no expired items), PartiQL writes (published
at once, unbatched), disabling a stream (AWS closes its shards; moto cannot enable one again; a
disabled stream here writes nothing and reads as DISABLED), streams of deleted tables (gone at
once; AWS keeps them readable for 24 hours).
"""

import base64
import binascii
import bisect
import functools
import json
import logging
import secrets
import threading
import time
import uuid
from datetime import datetime, timezone

from moto.core.exceptions import JsonRESTError
from moto.dynamodb import urls as dynamodb_urls
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodb.models.utilities import DynamoJsonEncoder
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from . import capacity, dynamodb_patches
from .dynamodb_patches import lock

RETENTION_SECONDS = 24 * 3600
ITERATOR_SECONDS = 15 * 60
MAX_LIMIT = 1000
MAX_RESPONSE_BYTES = 1024 * 1024
ITERATOR_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"

clock = time.time  # seconds since the epoch; the in-process tests replace it

log = logging.getLogger(__name__)
_orig: dict = {}
_local = threading.local()  # .changes: (shard, old, new) of the write requests now running


# --- errors (JSON, like DynamoDB's) --------------------------------------------------------


def _error(name: str, message: str) -> JsonRESTError:
    return JsonRESTError(ERROR_PREFIX + name, message)


def _validation(message: str) -> JsonRESTError:
    return _error("ValidationException", message)


# --- the shard: records and positions -----------------------------------------------------


class Record:
    """One stream record: its sequence number, creation time, and JSON as GetRecords sends it."""

    __slots__ = ("seq", "created", "text")

    def __init__(self, seq: int, created: float, text: str):
        self.seq, self.created, self.text = seq, created, text

    def to_json(self) -> dict:
        """The record as a dict, for moto's Lambda event source mapping."""
        return json.loads(self.text)


def _shard_init(self: StreamShard, account_id: str, table: Table) -> None:
    _orig["shard_init"](self, account_id, table)
    now = clock()
    millis = int(now * 1000)
    self.created_at = millis / 1000  # epoch seconds, DescribeStream's CreationRequestDateTime
    self.created_on = datetime.fromtimestamp(self.created_at, timezone.utc).replace(tzinfo=None)
    self.id = f"shardId-{millis:020d}-{secrets.token_hex(4)}"
    self.starting_sequence_number = millis * 10**9
    self.next_sequence_number = self.starting_sequence_number
    self.trimmed_through = None  # the last trimmed record's sequence number
    self.lambda_sent_through = self.starting_sequence_number - 1
    self.view_type = (table.stream_specification or {}).get("StreamViewType")
    self.items = []  # Record, oldest first; dynamodb_patches' rollback truncates this list
    self.parent_shard_id = None
    self.ending_sequence_number = None  # set when the shard is closed (rollover)
    self.closed_at = None


def _set_stream_specification(self: Table, streams) -> None:
    shard = self.stream_shard
    _orig["set_stream_specification"](self, streams)
    if self.stream_shard is not None and self.stream_shard is not shard:
        created = self.stream_shard.created_on  # AWS labels carry milliseconds
        self.trackses_stream_created_at = self.stream_shard.created_at
        self.latest_stream_label = created.strftime("%Y-%m-%dT%H:%M:%S.") + \
            f"{created.microsecond // 1000:03d}"


def _shard_to_json(self: StreamShard) -> dict:
    numbers = {"StartingSequenceNumber": str(self.starting_sequence_number)}
    if self.ending_sequence_number is not None:
        numbers["EndingSequenceNumber"] = str(self.ending_sequence_number)
    shard = {"ShardId": self.id, "SequenceNumberRange": numbers}
    if self.parent_shard_id:
        shard["ParentShardId"] = self.parent_shard_id
    return shard


def _shards(table: Table) -> list:
    """The stream's shards, oldest first: the closed ones still within the retention period, then
    the open one (table.stream_shard, where moto writes)."""
    horizon = clock() - RETENTION_SECONDS
    closed = [s for s in getattr(table, "trackses_closed_shards", []) if s.closed_at > horizon]
    table.trackses_closed_shards = closed
    return closed + [table.stream_shard]


def rollover(table: Table) -> tuple:
    """Closes the open shard and opens its child, as DynamoDB does on its own: (closed shard, new
    shard). Call under dynamodb_patches.lock."""
    parent = table.stream_shard
    parent.ending_sequence_number = parent.next_sequence_number - 1
    parent.closed_at = clock()
    child = StreamShard(parent.account_id, table)
    child.parent_shard_id = parent.id
    child.view_type = parent.view_type
    # A child's sequence numbers follow its parent's, even within one millisecond.
    child.starting_sequence_number = child.next_sequence_number = max(
        child.starting_sequence_number, parent.next_sequence_number)
    child.lambda_sent_through = child.starting_sequence_number - 1
    table.trackses_closed_shards = getattr(table, "trackses_closed_shards", []) + [parent]
    table.stream_shard = child
    return parent, child


def _trim(shard: StreamShard, now: float) -> None:
    """Drops the records older than the retention period."""
    items, horizon = shard.items, now - RETENTION_SECONDS
    if items and items[0].created <= horizon:
        count = bisect.bisect_right(items, horizon, key=lambda r: r.created)
        shard.trimmed_through = items[count - 1].seq
        del items[:count]


def _oldest_readable(shard: StreamShard) -> int:
    if shard.trimmed_through is None:
        return shard.starting_sequence_number
    return shard.trimmed_through + 1


# --- writing: one record per item a successful write request changed --------------------


def _shard_add(self: StreamShard, old, new) -> None:
    """moto calls this for every item write; the request's records are published when it ends."""
    changes = getattr(_local, "changes", None)
    if changes is None:
        _publish([(self, old, new)])  # a write outside the patched requests (PartiQL)
    else:
        changes.append((self, old, new))


def _write_request(method):
    """A write request's records are collected while it runs: published if it succeeds, dropped
    if it fails. Nested (TransactWriteItems calling put_item...): the outermost one publishes."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        outer = getattr(_local, "changes", None)
        _local.changes = []
        try:
            result = method(*args, **kwargs)
        except BaseException:
            _local.changes = outer
            raise
        changes, _local.changes = _local.changes, outer
        if outer is None:
            try:
                _publish(changes)
            except Exception:  # noqa: BLE001 - the write happened; its answer must say so
                log.exception("stream records of a %s lost", method.__name__)
        else:
            outer.extend(changes)
        return result

    return wrapper


def _publish(changes: list) -> None:
    """One record per item: from the item before its first change to the item after its last."""
    merged: dict = {}
    for shard, old, new in changes:
        item = old if old is not None else new
        key = (id(shard), item.hash_key, item.range_key)
        if key in merged:
            merged[key][2] = new
        else:
            merged[key] = [shard, old, new]
    touched = []
    for shard, old, new in merged.values():
        if _append(shard, old, new) and shard not in touched:
            touched.append(shard)
    for shard in touched:
        _feed_lambda(shard)


def _append(shard: StreamShard, old, new) -> bool:
    table = shard.table
    if not (table.stream_specification or {}).get("StreamEnabled") or shard.view_type is None:
        return False
    if old is None and new is None:
        return False
    if old is not None and new is not None and old.attrs == new.attrs:
        return False  # "does not change any data in an item": no record
    now = clock()
    _trim(shard, now)
    seq = shard.next_sequence_number
    shard.next_sequence_number += 1
    record = _record(table, shard.view_type, old, new, seq, now)
    shard.items.append(Record(seq, now, json.dumps(record, cls=DynamoJsonEncoder,
                                                   separators=(",", ":"))))
    return True


def _record(table: Table, view_type: str, old, new, seq: int, now: float) -> dict:
    old_image = old.to_json()["Attributes"] if old is not None else None
    new_image = new.to_json()["Attributes"] if new is not None else None
    image = new_image if new_image is not None else old_image
    key_names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    keys = {name: image[name] for name in key_names}
    dynamodb = {"ApproximateCreationDateTime": int(now), "Keys": keys}
    size = capacity.item_size(keys)
    if view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and new_image is not None:
        dynamodb["NewImage"] = new_image
        size += capacity.item_size(new_image)
    if view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and old_image is not None:
        dynamodb["OldImage"] = old_image
        size += capacity.item_size(old_image)
    dynamodb.update(SequenceNumber=str(seq), SizeBytes=max(size, 1), StreamViewType=view_type)
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT" if old is None else "REMOVE" if new is None else "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": table.region_name,
        "dynamodb": dynamodb,
    }


def _feed_lambda(shard: StreamShard) -> None:
    """moto's Lambda event source mappings get each new record once (as moto: synchronously)."""
    mappings = shard.table.lambda_event_source_mappings
    if not mappings:
        return
    from moto.awslambda.utils import get_backend

    start = bisect.bisect_right(shard.items, shard.lambda_sent_through, key=lambda r: r.seq)
    pending = shard.items[start:]
    if not pending:
        return
    delivered = False
    for arn, mapping in mappings.items():
        delivered = bool(get_backend(shard.account_id, arn.split(":")[3]).send_dynamodb_items(
            arn, pending, mapping.event_source_arn)) or delivered
    if delivered:
        shard.lambda_sent_through = pending[-1].seq


# --- reading: DescribeStream, GetShardIterator, GetRecords ---------------------------------


def _stream(handler, arn) -> tuple:
    """(table, shard) of a stream ARN, in the request's account and region."""
    if not isinstance(arn, str) or "/stream/" not in arn:
        raise _validation(f"Invalid StreamArn: {arn}")
    table_arn, label = arn.split("/stream/", 1)
    backend = handler.backend.dynamodb
    table = next((t for t in backend.tables.values() if t.table_arn == table_arn), None)
    if table is None or table.stream_shard is None or table.latest_stream_label != label:
        raise _error("ResourceNotFoundException",
                     f"Requested resource not found: Stream: {arn} not found")
    return table, table.stream_shard


def _shard(handler, arn, shard_id) -> tuple:
    table, _ = _stream(handler, arn)
    for shard in _shards(table):
        if shard.id == shard_id:
            return table, shard
    raise _error("ResourceNotFoundException",
                 f"Requested resource not found: Shard: {shard_id} in Stream: {arn} not found")


def describe_stream(self: DynamoDBStreamsHandler):
    arn = self._get_param("StreamArn")
    table, shard = _stream(self, arn)
    enabled = (table.stream_specification or {}).get("StreamEnabled")
    shards = _shards(table)
    ids = [s.id for s in shards]
    start = self._get_param("ExclusiveStartShardId")
    after = ids.index(start) + 1 if start in ids else 0
    description = {
        "StreamArn": arn,
        "StreamLabel": table.latest_stream_label,
        "StreamStatus": "ENABLED" if enabled else "DISABLED",
        "StreamViewType": shard.view_type,
        "CreationRequestDateTime": getattr(table, "trackses_stream_created_at", shard.created_at),
        "TableName": table.name,
        "KeySchema": table.schema,
        "Shards": [_shard_to_json(s) for s in shards[after:]],
    }
    return _json({"StreamDescription": description})


def get_shard_iterator(self: DynamoDBStreamsHandler):
    arn = self._get_param("StreamArn")
    kind = self._get_param("ShardIteratorType")
    if kind not in ITERATOR_TYPES:
        raise _validation(
            f"1 validation error detected: Value '{kind}' at 'shardIteratorType' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(ITERATOR_TYPES)}]")
    _, shard = _shard(self, arn, self._get_param("ShardId"))
    _trim(shard, clock())
    if kind == "TRIM_HORIZON":
        position = _oldest_readable(shard)
    elif kind == "LATEST":  # a closed shard's next number is past its end
        position = shard.next_sequence_number
    else:
        number = _sequence_number(shard, self._get_param("SequenceNumber"), kind)
        position = number if kind == "AT_SEQUENCE_NUMBER" else number + 1
    return _json({"ShardIterator": _iterator(arn, shard.id, position)})


def _sequence_number(shard: StreamShard, value, kind: str) -> int:
    if value is None:
        raise _validation(f"SequenceNumber is required for ShardIteratorType {kind}")
    if not isinstance(value, str) or not value.isdigit():
        raise _validation(f"Invalid SequenceNumber: {value}")
    number = int(value)
    if not shard.starting_sequence_number <= number < shard.next_sequence_number:
        raise _validation(f"Invalid SequenceNumber {value} for shard {shard.id}: "
                          "it is not a sequence number of this shard")
    if shard.trimmed_through is not None and number <= shard.trimmed_through:
        raise _error("TrimmedDataAccessException",
                     f"The sequence number {value} is beyond the trim horizon of shard {shard.id}")
    return number


def get_records(self: DynamoDBStreamsHandler):
    arn, shard_id, position, issued = _parse_iterator(self._get_param("ShardIterator"))
    limit = self._get_param("Limit")
    if limit is None:
        limit = MAX_LIMIT
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        bound = f"less than or equal to {MAX_LIMIT}" if isinstance(limit, int) and limit > 1 \
            else "greater than or equal to 1"
        raise _validation(f"1 validation error detected: Value '{limit}' at 'limit' failed to "
                          f"satisfy constraint: Member must have value {bound}")
    now = clock()
    if now - issued > ITERATOR_SECONDS:
        raise _error("ExpiredIteratorException",
                     "The provided iterator exceeds the maximum age allowed.")
    _, shard = _shard(self, arn, shard_id)
    _trim(shard, now)
    if position < _oldest_readable(shard):
        raise _error("TrimmedDataAccessException",
                     f"Records of shard {shard_id} from the iterator's position were trimmed "
                     "(older than 24 hours)")
    items = shard.items
    start = bisect.bisect_left(items, position, key=lambda r: r.seq)
    taken, size = [], 0
    for record in items[start:start + limit]:
        size += len(record.text)
        if taken and size > MAX_RESPONSE_BYTES:
            break
        taken.append(record)
    if taken:
        position = taken[-1].seq + 1
    body = '{"Records":[' + ",".join(r.text for r in taken) + "]"
    ending = shard.ending_sequence_number
    if ending is None or position <= ending:  # none: "the shard has been closed", all read
        body += ',"NextShardIterator":' + json.dumps(_iterator(arn, shard_id, position))
    return 200, {"Content-Type": "application/x-amz-json-1.0"}, body + "}"


def _iterator(arn: str, shard_id: str, position: int) -> str:
    """A shard iterator: like AWS's, the stream ARN, "|1|", then an opaque part."""
    token = f"{shard_id}|{position}|{int(clock() * 1000)}".encode()
    return f"{arn}|1|{base64.b64encode(token).decode()}"


def _parse_iterator(value) -> tuple:
    """(stream ARN, shard id, position, issued at in seconds) of a shard iterator."""
    try:
        arn, version, token = value.rsplit("|", 2)
        shard_id, position, issued = base64.b64decode(token, validate=True).decode().split("|")
        if version != "1":
            raise ValueError(version)
        return arn, shard_id, int(position), int(issued) / 1000
    except (AttributeError, ValueError, UnicodeDecodeError, binascii.Error):
        raise _validation(f"Invalid ShardIterator: {str(value)[:100]}") from None


# --- POST /_trackses/dynamodb/streams/rollover ------------------------------------------------

ROLLOVER_PATH = "/_trackses/dynamodb/streams/rollover"


def _rollover_endpoint(request, full_url, headers):
    """{"table": <name, table ARN or stream ARN>} -> 200 {"StreamArn", "ClosedShardId",
    "ShardId"}; 404 {"message"} without such a table or stream, 400 when a name is ambiguous."""
    if request.method != "POST":
        return 405, {"Allow": "POST"}, ""
    try:
        wanted = json.loads(request.data or b"{}").get("table")
    except (ValueError, AttributeError):
        wanted = None
    if not isinstance(wanted, str) or not wanted:
        return _message(400, '{"table": <name, table ARN or stream ARN>} expected')
    from moto.dynamodb.models import dynamodb_backends

    with lock:
        tables = [table for regions in dynamodb_backends.values() for backend in regions.values()
                  for table in backend.tables.values()
                  if wanted in (table.name, table.table_arn)
                  or wanted.split("/stream/")[0] == table.table_arn]
        if len(tables) > 1:
            return _message(400, f"{len(tables)} tables are named {wanted}: give its ARN")
        if not tables or tables[0].stream_shard is None:
            return _message(404, f"no table with a stream: {wanted}")
        table = tables[0]
        parent, child = rollover(table)
    return _json({"StreamArn": f"{table.table_arn}/stream/{table.latest_stream_label}",
                  "ClosedShardId": parent.id, "ShardId": child.id})


def _message(status: int, message: str):
    return status, {"Content-Type": "application/json"}, json.dumps({"message": message})


def _infer_service_region_host(self, environ, path):
    """Unsigned requests to the rollover route go to the DynamoDB app, which serves it."""
    if path.rstrip("/") == ROLLOVER_PATH and not environ.get("HTTP_AUTHORIZATION"):
        return "dynamodb"
    return _orig["infer_service_region_host"](self, environ, path)


def _json(data: dict):
    return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(data)


def _call_action(self: DynamoDBStreamsHandler):
    with lock:  # the records of a write request appear together
        return _orig["call_action"](self)


# --- installing --------------------------------------------------------------------------


def apply() -> None:
    if _orig:
        return
    dynamodb_patches.apply()  # its TransactWriteItems is the one wrapped below

    def patch(owner, name, func):
        _orig[name] = getattr(owner, name)
        setattr(owner, name, func)

    patch(StreamShard, "__init__", _shard_init)
    _orig["shard_init"] = _orig.pop("__init__")
    patch(StreamShard, "add", _shard_add)
    patch(StreamShard, "to_json", _shard_to_json)
    patch(Table, "set_stream_specification", _set_stream_specification)
    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        patch(DynamoDBBackend, name, _write_request(getattr(DynamoDBBackend, name)))
    patch(DynamoDBStreamsHandler, "call_action", _call_action)
    patch(DomainDispatcherApplication, "infer_service_region_host", _infer_service_region_host)
    dynamodb_urls.url_paths["{0}" + ROLLOVER_PATH + "$"] = _rollover_endpoint
    DynamoDBStreamsHandler.describe_stream = describe_stream
    DynamoDBStreamsHandler.get_shard_iterator = get_shard_iterator
    DynamoDBStreamsHandler.get_records = get_records
