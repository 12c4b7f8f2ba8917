"""The checker on hand-made histories: each count can go wrong, and is seen when it does."""

from tests.durability.checker import check


def op(kind, value, result="ok"):
    return {"kind": kind, "value": value, "result": result}


def test_everything_acknowledged_is_there():
    v = check([op("rpush", 1), op("rpush", 2), op("set", 1)], [1, 2], [1])
    assert (v.acknowledged_present, v.acknowledged_lost, v.valid) == (3, 0, True)


def test_a_lost_acknowledged_write_is_counted_and_named():
    v = check([op("rpush", 1), op("rpush", 2), op("set", 7)], [1], [])
    assert v.acknowledged_lost == 2 and not v.valid
    assert sorted(v.lost_values) == [("rpush", 2), ("set", 7)]


def test_unacknowledged_writes_may_or_may_not_be_there():
    v = check([op("rpush", 1, "timeout"), op("rpush", 2, "error"), op("set", 3, "timeout")], [1], [])
    assert (v.unacknowledged_present, v.unacknowledged_absent, v.failed, v.valid) == (1, 2, 3, True)


def test_duplicates_and_values_nobody_wrote_are_invalid():
    v = check([op("rpush", 1)], [1, 1, 9], [])
    assert (v.duplicates, v.unknown_present, v.valid) == (1, 1, False)
