"""DynamoDB's billing rules as pure functions: how big an item and its index entries are, and how
many read or write units AWS bills for reading or writing them.

Items are in DynamoDB's wire format, `{"name": {"S": "text"}, ...}`, with binary values as raw
bytes (as boto3 takes them and moto's to_regular_json gives them). The rules are AWS's, from the
DynamoDB Developer Guide:

- "DynamoDB item sizes and formats": an item's size is the sum over its attributes of the name's
  UTF-8 bytes and the value's size: a string its UTF-8 bytes, a number about 1 byte per two
  significant digits (leading and trailing zeroes trimmed) plus 1, a binary its raw bytes, a
  Boolean or null 1 byte, a list or map 3 bytes plus its elements, each element 1 byte more.
  Sets are not mentioned: a set is sized as the sum of its elements, sized as scalars.
- "DynamoDB read and write operations" / "Managing settings on DynamoDB provisioned capacity
  tables": a write costs one unit per started 1 KB (1 KB = 1,024 bytes) of the larger of the item
  before and after it (PutItem, UpdateItem), of the deleted item (DeleteItem), and at least one
  unit (BatchWriteItem: "Delete operations on nonexistent items consume one write capacity unit");
  each item of a batch is rounded on its own. A read costs one unit per started 4 KB, half of that
  when eventually consistent, twice when transactional; a read of a missing item still costs the
  minimum; Query and Scan round the total of the items they read, not each item.
- "Capacity management for transactions": every item of a transaction is read or written twice
  (prepare and commit), so it costs twice the units.
- "Global secondary indexes" / "Local secondary indexes", write capacity units: a write also costs
  each index whose entry for the item changes, sized as the index entry (table keys, index keys and
  projected attributes): one write to put an item into the index or delete it from there, two
  (delete, then put) when an index key attribute changes value, one when only projected attributes
  change, none when the index entry does not change or the item is in the index neither before nor
  after.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4 * 1024
TRANSACTION_FACTOR = 2  # prepare + commit
EVENTUALLY_CONSISTENT_FACTOR = 0.5
DOCUMENT_OVERHEAD = 3  # a list or a map, whatever it holds
ELEMENT_OVERHEAD = 1  # each element of a list or a map


def item_size(attrs: dict | None) -> int:
    """The size in bytes of an item (0 for a missing one, None)."""
    return sum(_utf8(name) + value_size(value) for name, value in (attrs or {}).items())


def value_size(value: dict) -> int:
    """The size in bytes of one attribute value, e.g. {"S": "text"}, without its name."""
    (kind, data), = value.items()
    return _SIZERS[kind](data)


def number_size(text: str) -> int:
    """1 byte per two significant digits (a started pair counts), plus 1."""
    digits = "".join(map(str, Decimal(text).as_tuple().digits)).strip("0")
    return math.ceil(len(digits) / 2) + 1


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _list_size(elements: list) -> int:
    return DOCUMENT_OVERHEAD + sum(ELEMENT_OVERHEAD + value_size(v) for v in elements)


def _map_size(entries: dict) -> int:
    return DOCUMENT_OVERHEAD + sum(
        ELEMENT_OVERHEAD + _utf8(name) + value_size(v) for name, v in entries.items())


def _set_sizer(element_sizer):
    return lambda elements: sum(element_sizer(e) for e in elements)


_SIZERS = {
    "S": _utf8,
    "N": number_size,
    "B": len,
    "BOOL": lambda _: 1,
    "NULL": lambda _: 1,
    "L": _list_size,
    "M": _map_size,
    "SS": _set_sizer(_utf8),
    "NS": _set_sizer(number_size),
    "BS": _set_sizer(len),
}


def write_units(size: int) -> int:
    """Units of writing (or deleting) `size` bytes: one per started KB, at least one."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, consistent: bool, transactional: bool = False) -> float:
    """Units of reading `size` bytes: one per started 4 KB (at least one), halved for an
    eventually consistent read, doubled for a transactional one."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    if transactional:
        return float(units * TRANSACTION_FACTOR)
    return float(units) if consistent else units * EVENTUALLY_CONSISTENT_FACTOR


@dataclass(frozen=True)
class Index:
    """A secondary index: which items it holds and which of their attributes."""

    name: str
    keys: tuple  # its key attributes; an item lacking one is not in the index (sparse index)
    projected: tuple | None  # the attributes its entries hold; None: all of them (ALL)

    @classmethod
    def create(cls, name: str, keys, table_keys, projection: dict) -> "Index":
        """From a CreateTable-style Projection ({"ProjectionType", "NonKeyAttributes"})."""
        kind = projection.get("ProjectionType", "ALL")
        if kind == "ALL":
            return cls(name, tuple(keys), None)
        included = projection.get("NonKeyAttributes", []) if kind == "INCLUDE" else []
        return cls(name, tuple(keys), tuple(dict.fromkeys([*table_keys, *keys, *included])))

    def entry(self, attrs: dict | None) -> dict | None:
        """The item as this index stores it, or None when the item is not in the index."""
        if attrs is None or any(key not in attrs for key in self.keys):
            return None
        if self.projected is None:
            return attrs
        return {name: attrs[name] for name in self.projected if name in attrs}

    def key_of(self, entry: dict) -> list:
        return [entry[key] for key in self.keys]


def table_write_units(before: dict | None, after: dict | None) -> int:
    """A write of one item: the larger of the item before and after it (None: absent). An item
    left as it was (a failed condition, a ConditionCheck) costs its size, one unit if absent."""
    return write_units(max(item_size(before), item_size(after)))


def index_write_units(index: Index, before: dict | None, after: dict | None) -> int:
    """What the same write costs in `index`, by how the item's entry there changes."""
    old, new = index.entry(before), index.entry(after)
    if old == new:  # also: in the index neither before nor after
        return 0
    if old is None or new is None:  # enters or leaves the index
        return write_units(item_size(old if new is None else new))
    if index.key_of(old) != index.key_of(new):  # moves: deleted from the old key, put at the new
        return write_units(item_size(old)) + write_units(item_size(new))
    return table_write_units(old, new)
