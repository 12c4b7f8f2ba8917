"""bench/hotpath.py runs every request it knows, and refuses to time error replies."""

import pytest

from bench import hotpath


@pytest.mark.parametrize("name", sorted(hotpath.REQUESTS))
def test_every_request_runs(name):
    assert hotpath.measure(name, pipeline=4, rounds=3, repeat=1) > 0


def test_error_replies_are_not_timed(monkeypatch):
    monkeypatch.setitem(hotpath.REQUESTS, "get", [b"GET"])  # wrong arity: every reply an error
    with pytest.raises(SystemExit, match="replies with an error"):
        hotpath.measure("get", pipeline=4, rounds=3, repeat=1)


def test_the_command_line_defaults_and_refusals(monkeypatch, capsys):
    monkeypatch.setattr("sys.argv", ["hotpath.py", "--rounds", "2", "--repeat", "1"])
    hotpath.main()
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == ["GET", "SET", "INCR"]
    monkeypatch.setattr("sys.argv", ["hotpath.py", "nosuch"])
    with pytest.raises(SystemExit):
        hotpath.main()
    assert "unknown test(s) nosuch" in capsys.readouterr().err
