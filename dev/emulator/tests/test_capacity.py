"""capacity.py against the examples and rules of AWS's DynamoDB Developer Guide ("DynamoDB item
sizes and formats", "DynamoDB read and write operations", "Capacity management for
transactions", the write capacity units of global and local secondary indexes)."""

import pytest
from trackses_emulator.capacity import (
    Index,
    index_write_units,
    item_size,
    number_size,
    read_units,
    table_write_units,
    value_size,
    write_units,
)

KB = 1024


def sized(size: int, **attrs) -> dict:
    """An item of `size` bytes: the string attributes given, and "pad" making up the rest."""
    used = sum(len(name) + len(value) for name, value in attrs.items()) + len("pad")
    strings = {name: {"S": value} for name, value in attrs.items()}
    return {**strings, "pad": {"S": "x" * (size - used)}}


# --- item sizes ----------------------------------------------------------------------------


def test_strings_count_utf8_bytes_of_name_and_value():
    assert item_size({"name": {"S": "Mocca"}}) == 4 + 5
    assert item_size({"caféName": {"S": "é"}}) == 9 + 2


@pytest.mark.parametrize("number,size", [
    ("7", 2),  # 1 significant digit: a started pair, plus 1
    ("42", 2),
    ("123", 3),
    ("-123.45", 4),  # 5 significant digits
    ("0012.5000", 3),  # leading and trailing zeroes are trimmed: 125
    ("1000000", 2),
    ("0.000001", 2),
    ("0", 1),
    ("12345678901234567890123456789012345678", 20),  # 38 digits, the most DynamoDB keeps
])
def test_numbers_are_one_byte_per_two_significant_digits_plus_one(number, size):
    assert number_size(number) == size
    assert value_size({"N": number}) == size


def test_binary_counts_raw_bytes():
    assert item_size({"b": {"B": b"\x00\x01\x02"}}) == 1 + 3


def test_null_and_boolean_are_one_byte():
    assert item_size({"t": {"BOOL": True}, "n": {"NULL": True}}) == (1 + 1) + (1 + 1)


def test_lists_and_maps_cost_3_bytes_plus_1_per_element():
    assert item_size({"l": {"L": []}}) == 1 + 3
    assert item_size({"m": {"M": {}}}) == 1 + 3
    assert value_size({"L": [{"S": "ab"}, {"N": "1"}]}) == 3 + (1 + 2) + (1 + 2)
    assert value_size({"M": {"k": {"S": "ab"}}}) == 3 + (1 + 1 + 2)
    assert value_size({"M": {"in": {"L": [{"BOOL": False}]}}}) == 3 + (1 + 2 + (3 + 1 + 1))


def test_sets_are_the_sum_of_their_elements():
    assert value_size({"SS": ["ab", "c"]}) == 3
    assert value_size({"NS": ["1", "123"]}) == 2 + 3
    assert value_size({"BS": [b"ab", b"c"]}) == 3


def test_a_missing_item_has_no_size():
    assert item_size(None) == 0


# --- write units ---------------------------------------------------------------------------


def test_a_write_rounds_the_item_up_to_the_next_kb():
    assert write_units(500) == 1
    assert write_units(KB) == 1
    assert write_units(KB + 1) == 2
    assert write_units(int(1.6 * KB)) == 2  # "if you put or delete an item of 1.6 KB ... 2 KB"


def test_a_write_costs_at_least_one_unit():
    assert write_units(0) == 1  # "Delete operations on nonexistent items consume one WCU"


def test_batch_items_are_rounded_one_by_one():
    # "if BatchWriteItem writes a 500-byte item and a 3.5 KB item, DynamoDB calculates 5 KB"
    assert write_units(500) + write_units(int(3.5 * KB)) == 5


def test_put_and_update_cost_the_larger_of_before_and_after():
    small, big = sized(int(0.9 * KB), pk="a"), sized(int(1.1 * KB), pk="a")
    assert table_write_units(None, small) == 1
    assert table_write_units(small, big) == 2
    assert table_write_units(big, small) == 2


def test_delete_costs_the_deleted_item():
    assert table_write_units(sized(int(1.6 * KB), pk="a"), None) == 2
    assert table_write_units(None, None) == 1


def test_an_item_left_as_it_was_costs_its_size():
    # A failed conditional write: "a failed conditional write of a 1 KB item would consume one
    # write capacity unit. If the item were twice that size, ... two"; a missing item, one.
    one_kb = sized(KB, pk="a")
    assert table_write_units(one_kb, one_kb) == 1
    assert table_write_units(sized(2 * KB, pk="a"), sized(2 * KB, pk="a")) == 2


# --- read units ----------------------------------------------------------------------------


def test_reads_round_up_to_4_kb_halved_when_eventually_consistent():
    assert read_units(int(3.5 * KB), consistent=True) == 1  # "3,500-byte item ... 4 KB"
    assert read_units(10 * KB, consistent=True) == 3  # "10 KB ... 12 KB"
    assert read_units(8 * KB, consistent=True) == 2  # "8 KB: 2 read units ... strongly"
    assert read_units(8 * KB, consistent=False) == 1  # "1 read unit ... eventually consistent"
    assert read_units(8 * KB, consistent=True, transactional=True) == 4  # "4 ... transactional"


def test_a_read_of_nothing_costs_the_minimum():
    assert read_units(0, consistent=True) == 1
    assert read_units(0, consistent=False) == 0.5


def test_query_rounds_the_total_of_its_items():
    assert read_units(int(40.8 * KB), consistent=True) == 11  # "40.8 KB ... rounds to 44 KB"
    assert read_units(1500 * 64, consistent=True) == 24  # "1500 items of 64 bytes ... 96 KB"
    assert read_units(80 * KB, consistent=False) == 10  # "if total item size is 80 KB ... 10"
    assert read_units(8 * 2000, consistent=False) == 2  # GSI: "2,000 bytes × 8 items ... 2"


def test_batch_get_rounds_each_item():
    # "if BatchGetItem reads a 1.5 KB item and a 6.5 KB item, DynamoDB calculates 12 KB"
    assert read_units(int(1.5 * KB), True) + read_units(int(6.5 * KB), True) == 3


# --- secondary indexes -----------------------------------------------------------------------

TABLE_KEYS = ["pk"]


def gsi(projection: dict) -> Index:
    return Index.create("gsi1", ["gpk", "gsk"], TABLE_KEYS, projection)


def test_projections():
    item = {"pk": {"S": "a"}, "gpk": {"S": "g"}, "gsk": {"S": "s"}, "x": {"S": "1"},
            "y": {"S": "2"}}
    assert gsi({"ProjectionType": "ALL"}).entry(item) == item
    assert gsi({"ProjectionType": "KEYS_ONLY"}).entry(item) == {
        "pk": {"S": "a"}, "gpk": {"S": "g"}, "gsk": {"S": "s"}}
    assert gsi({"ProjectionType": "INCLUDE", "NonKeyAttributes": ["y"]}).entry(item) == {
        "pk": {"S": "a"}, "gpk": {"S": "g"}, "gsk": {"S": "s"}, "y": {"S": "2"}}


def test_an_item_without_every_index_key_is_not_in_the_index():
    index = gsi({"ProjectionType": "ALL"})
    assert index.entry({"pk": {"S": "a"}, "gpk": {"S": "g"}}) is None
    assert index_write_units(index, None, sized(3 * KB, pk="a", gpk="g")) == 0


def test_entering_or_leaving_the_index_is_one_write_of_the_entry():
    index = gsi({"ProjectionType": "ALL"})
    indexed = sized(int(1.5 * KB), pk="a", gpk="g", gsk="s")
    unindexed = sized(int(1.5 * KB), pk="a", gpk="g")
    assert index_write_units(index, None, indexed) == 2
    assert index_write_units(index, unindexed, indexed) == 2
    assert index_write_units(index, indexed, None) == 2
    assert index_write_units(index, indexed, unindexed) == 2


def test_a_changed_index_key_is_a_delete_and_a_put():
    index = gsi({"ProjectionType": "ALL"})
    before = sized(int(1.5 * KB), pk="a", gpk="g", gsk="s")
    after = sized(500, pk="a", gpk="g", gsk="t")
    assert index_write_units(index, before, after) == 2 + 1


def test_changed_projected_attributes_are_one_write():
    index = gsi({"ProjectionType": "INCLUDE", "NonKeyAttributes": ["pad"]})
    before = sized(500, pk="a", gpk="g", gsk="s")
    after = sized(int(1.5 * KB), pk="a", gpk="g", gsk="s")
    assert index_write_units(index, before, after) == 2


def test_an_unchanged_entry_costs_nothing():
    index = gsi({"ProjectionType": "KEYS_ONLY"})
    before = sized(500, pk="a", gpk="g", gsk="s")
    after = sized(int(1.5 * KB), pk="a", gpk="g", gsk="s")
    assert index_write_units(index, before, after) == 0
    assert index_write_units(index, before, before) == 0


def test_keys_only_entries_are_sized_by_their_keys():
    index = gsi({"ProjectionType": "KEYS_ONLY"})
    assert index_write_units(index, None, sized(3 * KB, pk="a", gpk="g", gsk="s")) == 1
