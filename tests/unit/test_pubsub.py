"""Pub/Sub: confirmations byte for byte (RESP2 arrays, RESP3 pushes), delivery, the
subscribe context, PUBSUB introspection, shard channels, cleanup on disconnect."""

import hiredis

_CONTEXT_ERR = "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"


def _take(client):
    data = b"".join(client.out)
    client.out.clear()
    return data


def _decode_all(data):
    reader = hiredis.Reader()
    reader.feed(data)
    out = []
    while (item := reader.gets()) is not False:
        out.append(item)
    return out


def test_subscribe_confirms_each_channel_with_running_count(h):
    assert h.raw("SUBSCRIBE", "a", "b", "a") == (
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n"
        b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:2\r\n"
    )
    assert h.raw("PSUBSCRIBE", "n*") == b"*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:3\r\n"
    assert h.client.kind == "pubsub"


def test_resp3_confirmations_are_pushes(h):
    h.client.resp3 = True
    assert h.raw("SUBSCRIBE", "a") == b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    assert h.raw("UNSUBSCRIBE") == b">3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:0\r\n"
    assert h.raw("UNSUBSCRIBE") == b">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n"


def test_publish_reaches_channel_and_pattern_subscribers(h):
    sub = h.new_client()
    h.raw("SUBSCRIBE", "news", client=sub)
    h.raw("PSUBSCRIBE", "n*", "x*", client=sub)
    assert h.run("PUBLISH", "news", "hello") == 2
    assert _take(sub) == (
        b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n"
        b"*4\r\n$8\r\npmessage\r\n$2\r\nn*\r\n$4\r\nnews\r\n$5\r\nhello\r\n"
    )
    assert h.run("PUBLISH", "other", "x") == 0
    assert _take(sub) == b""
    assert h.node.stats["pubsub_messages"] == 2


def test_publish_encodes_per_subscriber_protocol(h):
    two, three = h.new_client(), h.new_client()
    three.resp3 = True
    for c in (two, three):
        h.raw("SUBSCRIBE", "ch", client=c)
    assert h.run("PUBLISH", "ch", "m") == 2
    assert _take(two) == b"*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n"
    assert _take(three) == b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\nm\r\n"


def test_resp3_subscriber_publishing_to_itself_gets_the_push_before_the_reply(h):
    h.client.resp3 = True
    h.raw("SUBSCRIBE", "me")
    assert h.raw("PUBLISH", "me", "hi") == b">3\r\n$7\r\nmessage\r\n$2\r\nme\r\n$2\r\nhi\r\n:1\r\n"


def test_resp2_subscribe_context_refuses_other_commands_until_unsubscribed(h):
    h.raw("SUBSCRIBE", "a")
    h.raw("PSUBSCRIBE", "p*")
    assert str(h.run("GET", "k")) == _CONTEXT_ERR
    h.raw("UNSUBSCRIBE")
    assert h.client.kind == "pubsub"  # the pattern is still there
    assert h.raw("PUNSUBSCRIBE") == b"*3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:0\r\n"
    assert h.client.kind == "normal"
    assert h.run("GET", "k") is None


def test_resp3_client_may_run_anything_while_subscribed(h):
    h.client.resp3 = True
    h.raw("SUBSCRIBE", "a")
    assert h.raw("GET", "k") == b"_\r\n"


def test_unsubscribe_without_subscriptions_replies_nil_channel(h):
    assert h.raw("UNSUBSCRIBE") == b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
    assert h.raw("PUNSUBSCRIBE") == b"*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n"
    assert h.raw("UNSUBSCRIBE", "never") == b"*3\r\n$11\r\nunsubscribe\r\n$5\r\nnever\r\n:0\r\n"
    assert h.client.kind == "normal"


def test_unsubscribe_all_goes_in_subscription_order(h):
    h.raw("PSUBSCRIBE", "c*", "a*", "b*")
    replies = _decode_all(h.raw("PUNSUBSCRIBE"))
    assert replies == [[b"punsubscribe", b"c*", 2], [b"punsubscribe", b"a*", 1], [b"punsubscribe", b"b*", 0]]
    assert h.node.patterns == {}


def test_pubsub_channels_numsub_numpat(h):
    a, b = h.new_client(), h.new_client()
    h.raw("SUBSCRIBE", "news", "sport", client=a)
    h.raw("SUBSCRIBE", "news", client=b)
    h.raw("PSUBSCRIBE", "n*", client=a)
    h.raw("PSUBSCRIBE", "n*", "s*", client=b)
    assert sorted(h.run("PUBSUB", "CHANNELS")) == [b"news", b"sport"]
    assert h.run("PUBSUB", "CHANNELS", "n*") == [b"news"]
    assert h.raw("PUBSUB", "NUMSUB", "news", "none") == b"*4\r\n$4\r\nnews\r\n:2\r\n$4\r\nnone\r\n:0\r\n"
    assert h.run("PUBSUB", "NUMSUB") == []
    assert h.run("PUBSUB", "NUMPAT") == 2
    h.client.resp3 = True
    # NUMSUB stays a flat array in RESP3, as Redis 7.0 sends it.
    assert h.raw("PUBSUB", "NUMSUB", "news") == b"*2\r\n$4\r\nnews\r\n:2\r\n"


def test_pubsub_errors_and_help(h):
    assert str(h.run("PUBSUB", "FOO")) == "ERR unknown subcommand 'FOO'. Try PUBSUB HELP."
    assert str(h.run("PUBSUB", "NUMPAT", "x")) == "ERR wrong number of arguments for 'pubsub|numpat' command"
    assert str(h.run("PUBSUB", "CHANNELS", "a", "b")) == "ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP."
    assert str(h.run("PUBSUB")) == "ERR wrong number of arguments for 'pubsub' command"
    assert str(h.run("SUBSCRIBE")) == "ERR wrong number of arguments for 'subscribe' command"
    help_lines = h.run("PUBSUB", "HELP")
    assert len(help_lines) == 14
    assert help_lines[0] == b"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert help_lines[-1] == b"    Prints this help."


def test_disconnect_removes_every_subscription(h):
    sub = h.new_client()
    h.raw("SUBSCRIBE", "a", client=sub)
    h.raw("PSUBSCRIBE", "*", client=sub)
    h.raw("SSUBSCRIBE", "s", client=sub)
    h.node.remove_client(sub)
    assert h.node.channels == {} and h.node.patterns == {} and h.node.shard_channels == {}
    assert h.run("PUBLISH", "a", "x") == 0
    assert h.run("SPUBLISH", "s", "x") == 0


def test_shard_channels_count_apart_and_ignore_patterns(h):
    sub = h.new_client()
    assert h.raw("SSUBSCRIBE", "s1", "s2", client=sub) == (
        b"*3\r\n$10\r\nssubscribe\r\n$2\r\ns1\r\n:1\r\n*3\r\n$10\r\nssubscribe\r\n$2\r\ns2\r\n:2\r\n"
    )
    assert h.raw("SUBSCRIBE", "c", client=sub) == b"*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n"
    h.raw("PSUBSCRIBE", "s*", client=sub)
    h.raw("UNSUBSCRIBE", client=sub)
    h.raw("PUNSUBSCRIBE", client=sub)
    assert sub.kind == "pubsub"  # shard subscriptions keep the context
    assert h.run("SPUBLISH", "s2", "m") == 1
    assert _take(sub) == b"*3\r\n$8\r\nsmessage\r\n$2\r\ns2\r\n$1\r\nm\r\n"
    assert h.run("PUBLISH", "s2", "m") == 0
    assert h.run("PUBSUB", "SHARDCHANNELS", "s1") == [b"s1"]
    assert h.run("PUBSUB", "SHARDNUMSUB", "s2", "x") == [b"s2", 1, b"x", 0]
    assert h.raw("SUNSUBSCRIBE", "s1", client=sub) == b"*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns1\r\n:1\r\n"
    assert h.raw("SUNSUBSCRIBE", client=sub) == b"*3\r\n$12\r\nsunsubscribe\r\n$2\r\ns2\r\n:0\r\n"
    assert h.raw("SUNSUBSCRIBE", client=sub) == b"*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n"
    assert sub.kind == "normal"


def test_subscribe_inside_exec_but_not_ssubscribe(h):
    h.raw("MULTI")
    h.raw("SUBSCRIBE", "m")
    assert h.raw("EXEC") == b"*1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nm\r\n:1\r\n"
    assert h.client.kind == "pubsub"
    h.raw("UNSUBSCRIBE")
    h.raw("MULTI")
    h.raw("SSUBSCRIBE", "m")
    assert h.raw("EXEC") == b"*1\r\n-ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client\r\n"


def test_publish_is_forwarded_to_replicas_only(h):
    aof, repl = [], []
    h.node.propagate_listeners.append(lambda db, argv: aof.append(argv))
    h.node.repl_listeners.append(lambda db, argv: repl.append(argv))
    h.run("PUBLISH", "ch", "m")
    assert repl == [[b"PUBLISH", b"ch", b"m"]]
    assert aof == []


def test_subscriber_dropped_for_output_limit_during_publish(h):
    h.node.config.set("client-output-buffer-limit", "pubsub 10 0 0")
    subs = [h.new_client() for _ in range(3)]
    for c in subs:
        h.raw("SUBSCRIBE", "ch", client=c)
        c.kill = lambda c=c: h.node.remove_client(c)
    # Every delivery counts even though each subscriber is dropped for it.
    assert h.run("PUBLISH", "ch", "a long enough message") == 3
    assert all(c.closing for c in subs)
    assert h.node.channels == {}
