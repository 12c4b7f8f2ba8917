"""INFO, CONFIG and COMMAND: shapes and texts as Redis 7.0.15 replies them."""

import os
import re

import pytest
import yaml

from node import config as config_mod
from node import info as info_mod
from node.commands import meta, table
from tests.unit.conftest import Harness

# ---- helpers ---------------------------------------------------------------


def info_text(h, *sections):
    reply = h.run("INFO", *sections)
    return reply.decode()


def fields(text, section_title):
    """Field names of one section, in order."""
    block = text.split("# " + section_title + "\r\n", 1)[1].split("\r\n\r\n", 1)[0]
    return [line.split(":", 1)[0] for line in block.split("\r\n") if line]


def field(text, name):
    m = re.search(r"^%s:(.*)\r$" % re.escape(name), text, re.M)
    return m.group(1) if m else None


@pytest.fixture
def temp_commands(h):
    """Register throwaway commands for key-spec tests (in h's node too); removed afterwards."""
    added = []

    def add(name, arity, flags, first=0, last=0, step=0, **kw):
        table.command(name, arity, flags, first, last, step, **kw)(lambda c, argv: b"ok")
        added.append(name)
        return h.node.table.add(table.COMMANDS[name])

    yield add
    for name in added:
        table.COMMANDS.pop(name)
        table.BY_BYTES.pop(name.encode(), None)
        table.BY_BYTES.pop(name.upper().encode(), None)


# ---- INFO ------------------------------------------------------------------

DEFAULT_TITLES = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Errorstats", "Cluster", "Keyspace"]
ALL_TITLES = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules", "Commandstats", "Errorstats", "Latencystats", "Cluster", "Keyspace"]

# Copied from a real redis-server 7.0.15 (`INFO everything`, a master without AOF).
REDIS_FIELDS = {
    "Clients": "connected_clients cluster_connections maxclients client_recent_max_input_buffer client_recent_max_output_buffer blocked_clients tracking_clients clients_in_timeout_table",
    "Memory": "used_memory used_memory_human used_memory_rss used_memory_rss_human used_memory_peak used_memory_peak_human used_memory_peak_perc used_memory_overhead used_memory_startup used_memory_dataset used_memory_dataset_perc allocator_allocated allocator_active allocator_resident total_system_memory total_system_memory_human used_memory_lua used_memory_vm_eval used_memory_lua_human used_memory_scripts_eval number_of_cached_scripts number_of_functions number_of_libraries used_memory_vm_functions used_memory_vm_total used_memory_vm_total_human used_memory_functions used_memory_scripts used_memory_scripts_human maxmemory maxmemory_human maxmemory_policy allocator_frag_ratio allocator_frag_bytes allocator_rss_ratio allocator_rss_bytes rss_overhead_ratio rss_overhead_bytes mem_fragmentation_ratio mem_fragmentation_bytes mem_not_counted_for_evict mem_replication_backlog mem_total_replication_buffers mem_clients_slaves mem_clients_normal mem_cluster_links mem_aof_buffer mem_allocator active_defrag_running lazyfree_pending_objects lazyfreed_objects",
    "Persistence": "loading async_loading current_cow_peak current_cow_size current_cow_size_age current_fork_perc current_save_keys_processed current_save_keys_total rdb_changes_since_last_save rdb_bgsave_in_progress rdb_last_save_time rdb_last_bgsave_status rdb_last_bgsave_time_sec rdb_current_bgsave_time_sec rdb_saves rdb_last_cow_size rdb_last_load_keys_expired rdb_last_load_keys_loaded aof_enabled aof_rewrite_in_progress aof_rewrite_scheduled aof_last_rewrite_time_sec aof_current_rewrite_time_sec aof_last_bgrewrite_status aof_rewrites aof_rewrites_consecutive_failures aof_last_write_status aof_last_cow_size module_fork_in_progress module_fork_last_cow_size",
    "Stats": "total_connections_received total_commands_processed instantaneous_ops_per_sec total_net_input_bytes total_net_output_bytes total_net_repl_input_bytes total_net_repl_output_bytes instantaneous_input_kbps instantaneous_output_kbps instantaneous_input_repl_kbps instantaneous_output_repl_kbps rejected_connections sync_full sync_partial_ok sync_partial_err expired_keys expired_stale_perc expired_time_cap_reached_count expire_cycle_cpu_milliseconds evicted_keys evicted_clients total_eviction_exceeded_time current_eviction_exceeded_time keyspace_hits keyspace_misses pubsub_channels pubsub_patterns pubsubshard_channels latest_fork_usec total_forks migrate_cached_sockets slave_expires_tracked_keys active_defrag_hits active_defrag_misses active_defrag_key_hits active_defrag_key_misses total_active_defrag_time current_active_defrag_time tracking_total_keys tracking_total_items tracking_total_prefixes unexpected_error_replies total_error_replies dump_payload_sanitizations total_reads_processed total_writes_processed io_threaded_reads_processed io_threaded_writes_processed reply_buffer_shrinks reply_buffer_expands",
    "Replication": "role connected_slaves master_failover_state master_replid master_replid2 master_repl_offset second_repl_offset repl_backlog_active repl_backlog_size repl_backlog_first_byte_offset repl_backlog_histlen",
    "CPU": "used_cpu_sys used_cpu_user used_cpu_sys_children used_cpu_user_children used_cpu_sys_main_thread used_cpu_user_main_thread",
    "Cluster": "cluster_enabled",
}
REDIS_SERVER_FIELDS = "redis_version redis_git_sha1 redis_git_dirty redis_build_id redis_mode os arch_bits monotonic_clock multiplexing_api atomicvar_api gcc_version process_id process_supervised run_id tcp_port server_time_usec uptime_in_seconds uptime_in_days hz configured_hz lru_clock executable config_file io_threads_active"


def test_info_default_sections_in_redis_order(h):
    text = info_text(h)
    assert re.findall(r"^# (\w+)\r$", text, re.M) == DEFAULT_TITLES


@pytest.mark.parametrize("arg", ["all", "everything", "ALL"])
def test_info_all_and_everything(h, arg):
    assert re.findall(r"^# (\w+)\r$", info_text(h, arg), re.M) == ALL_TITLES


def test_info_sections_come_in_canonical_order_and_unknown_ones_are_ignored(h):
    text = info_text(h, "keyspace", "CLIENTS", "bogus", "server")
    assert re.findall(r"^# (\w+)\r$", text, re.M) == ["Server", "Clients", "Keyspace"]
    assert h.raw("INFO", "bogus") == b"$0\r\n\r\n"


def test_info_default_plus_commandstats(h):
    titles = re.findall(r"^# (\w+)\r$", info_text(h, "default", "commandstats"), re.M)
    assert titles == DEFAULT_TITLES[:8] + ["Commandstats"] + DEFAULT_TITLES[8:]


def test_info_wire_format_resp2_and_resp3(h):
    assert h.raw("INFO", "cluster", "modules") == b"$43\r\n# Modules\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n"
    h.client.resp3 = True
    assert h.raw("INFO", "cluster") == b"=34\r\ntxt:# Cluster\r\ncluster_enabled:0\r\n\r\n"


@pytest.mark.parametrize("title", sorted(REDIS_FIELDS))
def test_info_fields_are_redis_fields_in_redis_order(h, title):
    assert fields(info_text(h, "everything"), title) == REDIS_FIELDS[title].split()


def test_info_server_fields(h):
    text = info_text(h, "server")
    names = fields(text, "Server")
    assert [n for n in names if n != "triokv_version"] == REDIS_SERVER_FIELDS.split()
    assert field(text, "redis_version") == "7.0.15"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", field(text, "triokv_version"))
    assert field(text, "multiplexing_api") == "trio"
    assert field(text, "run_id") == h.node.run_id
    assert field(text, "tcp_port") == "6379"
    assert field(text, "process_id") == str(os.getpid())
    assert field(text, "config_file") == ""
    h.node.config.path = "/etc/triokv.conf"
    assert field(info_text(h, "server"), "config_file") == "/etc/triokv.conf"


def test_info_clients_counts_connections_and_blocked(h):
    h.new_client()
    other = h.new_client()
    h.run("BLPOP", "nolist", "0", client=other)
    text = info_text(h, "clients")
    assert field(text, "connected_clients") == "3"
    assert field(text, "blocked_clients") == "1"
    assert field(text, "clients_in_timeout_table") == "0"


def test_info_keyspace_lists_non_empty_dbs(h):
    assert fields(info_text(h, "keyspace"), "Keyspace") == []
    h.run("SET", "a", "1")
    h.run("SET", "b", "1", "PX", "100000")
    h.run("SELECT", "3")
    h.run("SET", "c", "1")
    text = info_text(h, "keyspace")
    m = re.search(r"^db0:keys=2,expires=1,avg_ttl=(\d+)\r$", text, re.M)
    assert m and 0 < int(m.group(1)) <= 100000
    assert field(text, "db3") == "keys=1,expires=0,avg_ttl=0"
    assert field(text, "db1") is None


def test_info_stats_counts_hits_misses_errors(h):
    # Command counters live on the process-wide command table: start from zero.
    h.run("RPUSH", "l", "v")
    info_mod.reset_stats(h.node)
    h.run("LLEN", "l")
    h.run("LLEN", "nolist")
    h.run("NOSUCHCOMMAND")
    text = info_text(h, "stats")
    assert field(text, "keyspace_hits") == "1"
    assert field(text, "keyspace_misses") == "1"
    assert field(text, "total_error_replies") == "1"
    assert field(text, "total_commands_processed") == "2"


def test_info_commandstats_and_errorstats(h):
    info_mod.reset_stats(h.node)
    h.run("SET", "k", "v")
    h.run("GET", "k")
    h.run("GET", "k")
    h.run("LPUSH", "k", "x")  # WRONGTYPE: a failed call
    h.run("GET")  # wrong arity: a rejected call
    h.run("CONFIG", "GET", "port")
    h.run("BOGUS")
    text = info_text(h, "commandstats", "errorstats")
    assert re.search(r"^cmdstat_get:calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=0\r$", text, re.M)
    assert re.search(r"^cmdstat_lpush:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=1\r$", text, re.M)
    # A container command shows as its subcommands, like Redis.
    assert re.search(r"^cmdstat_config\|get:calls=1,", text, re.M)
    assert field(text, "cmdstat_config") is None
    assert fields(text, "Errorstats") == ["errorstat_ERR", "errorstat_WRONGTYPE"]
    assert field(text, "errorstat_ERR") == "count=2"
    assert field(text, "errorstat_WRONGTYPE") == "count=1"


def test_info_persistence_defaults_and_dirty_counter(h):
    text = info_text(h, "persistence")
    assert field(text, "rdb_changes_since_last_save") == "0"
    assert field(text, "rdb_last_save_time") == str(int(h.node.start_time))
    assert field(text, "aof_enabled") == "0"
    h.run("SET", "a", "1")
    h.run("SET", "b", "1")
    assert field(info_text(h, "persistence"), "rdb_changes_since_last_save") == "2"
    h.node.dirty_at_last_save = h.node.keyspace.dirty - 1
    assert field(info_text(h, "persistence"), "rdb_changes_since_last_save") == "1"


def test_info_persistence_reads_the_persistence_object(h):
    class Persistence:
        rdb_saves = 4
        rdb_last_save_time = 1234
        rdb_last_bgsave_status = "err"
        aof_enabled = True

    h.node.persistence = Persistence()
    text = info_text(h, "persistence")
    assert field(text, "rdb_saves") == "4"
    assert field(text, "rdb_last_save_time") == "1234"
    assert field(text, "rdb_last_bgsave_status") == "err"
    assert field(text, "aof_enabled") == "1"


def test_info_aof_on_adds_redis_aof_fields():
    h = Harness(appendonly="yes")
    names = fields(info_text(h, "persistence"), "Persistence")
    assert names[-6:] == ["aof_current_size", "aof_base_size", "aof_pending_rewrite", "aof_buffer_length", "aof_pending_bio_fsync", "aof_delayed_fsync"]


def test_info_replication_default_and_providers(h):
    text = info_text(h, "replication")
    assert field(text, "role") == "master"
    replid = field(text, "master_replid")
    assert re.fullmatch(r"[0-9a-f]{40}", replid)
    assert field(info_text(h, "replication"), "master_replid") == replid
    assert field(text, "master_replid2") == "0" * 40
    assert field(text, "second_repl_offset") == "-1"
    assert field(text, "repl_backlog_size") == "1048576"

    class Replication:
        master_repl_offset = 77

        def refuse_write(self, c, cmd):
            return None

    h.node.replication = Replication()
    assert field(info_text(h, "replication"), "master_repl_offset") == "77"
    Replication.info_fields = lambda self: [("role", "slave"), ("master_host", "10.0.0.1")]
    text = info_text(h, "replication")
    assert fields(text, "Replication") == ["role", "master_host"]


def test_info_provide_replaces_a_section(h):
    saved = info_mod._builders["cluster"]
    try:
        info_mod.provide("cluster", lambda node: [("cluster_enabled", 0), ("extra", "x")])
        assert fields(info_text(h, "cluster"), "Cluster") == ["cluster_enabled", "extra"]
    finally:
        info_mod.provide("cluster", saved)
    with pytest.raises(ValueError):
        info_mod.provide("nosuch", saved)


def test_info_memory_follows_the_dataset(h):
    before = int(field(info_text(h, "memory"), "used_memory"))
    h.run("SET", "big", "x" * 100_000)
    text = info_text(h, "memory")
    used = int(field(text, "used_memory"))
    assert used - before >= 100_000
    assert int(field(text, "used_memory_dataset")) >= 100_000
    assert int(field(text, "used_memory_peak")) >= used
    assert int(field(text, "used_memory_rss")) > 0
    assert field(text, "maxmemory_policy") == "noeviction"


@pytest.mark.parametrize("n, text", [(0, "0B"), (1023, "1023B"), (1024, "1.00K"), (916176, "894.70K"), (12181504, "11.62M"), (25276502016, "23.54G")])
def test_human_bytes_like_redis(n, text):
    assert info_mod.human_bytes(n) == text


def test_instantaneous_rates_average_samples(h):
    node = h.node
    info_mod.sample_metrics(node, 1000)
    node.stats["total_net_input_bytes"] += 16 * 1024
    info_mod.sample_metrics(node, 2000)
    # One sample of 16 KB/s among Redis's 16 samples: 1 KB/s on average.
    assert info_mod._rate(node, "in") == 1024


# ---- CONFIG GET ----------------------------------------------------------------


def test_config_get_shapes(h):
    assert h.raw("CONFIG", "GET", "maxmemory") == b"*2\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"
    h.client.resp3 = True
    assert h.raw("CONFIG", "GET", "maxmemory") == b"%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"
    assert h.raw("CONFIG", "GET", "nosuch") == b"%0\r\n"


def test_config_get_names_patterns_and_aliases(h):
    assert h.run("CONFIG", "GET", "PORT") == [b"PORT", b"6379"]
    reply = h.run("CONFIG", "GET", "slave*")
    names = reply[0::2]
    assert b"slave-read-only" in names and b"slaveof" in names and b"replica-read-only" not in names
    reply = h.run("CONFIG", "GET", "port", "*por*", "port")
    names = reply[0::2]
    assert names.count(b"port") == 1 and b"replica-announce-port" in names
    reply = h.run("CONFIG", "GET", "MAXMEM*")
    assert dict(zip(reply[0::2], reply[1::2])) == {
        b"maxmemory": b"0",
        b"maxmemory-policy": b"noeviction",
        b"maxmemory-samples": b"5",
        b"maxmemory-eviction-tenacity": b"10",
        b"maxmemory-clients": b"0",
    }


def test_config_get_formats(h):
    assert h.run("CONFIG", "GET", "dir") == [b"dir", os.getcwd().encode()]
    assert h.run("CONFIG", "GET", "client-output-buffer-limit")[1] == b"normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"
    assert h.run("CONFIG", "GET", "save")[1] == b"3600 1 300 100 60 10000"
    assert h.run("CONFIG", "GET", "appendonly")[1] == b"no"


def test_config_get_arity(h):
    assert str(h.run("CONFIG", "GET")) == "ERR wrong number of arguments for 'config|get' command"


# ---- CONFIG SET ----------------------------------------------------------------


def test_config_set_sets_and_calls_listeners(h):
    seen = []
    h.node.config.listeners.append(lambda name, value: seen.append((name, value)))
    assert h.run("CONFIG", "SET", "maxmemory", "10mb", "slave-read-only", "no") == b"OK"
    assert h.node.config["maxmemory"] == 10 * 1024 * 1024
    assert h.run("CONFIG", "GET", "replica-read-only") == [b"replica-read-only", b"no"]
    assert ("maxmemory", 10485760) in seen and ("replica-read-only", False) in seen


@pytest.mark.parametrize("args, error", [
    (["foo", "bar"], "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"),
    (["maxmemory", "abc"], "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"),
    (["maxmemory", "-1"], "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"),
    (["MaxMemory", "abc"], "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"),
    (["databases", "3"], "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"),
    (["SLAVEOF", "a b"], "ERR CONFIG SET failed (possibly related to argument 'SLAVEOF') - can't set immutable config"),
    (["dbfilename", "x.rdb"], "ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config"),
    (["dir", "/tmp"], "ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config"),
    (["maxmemory", "1", "MAXMEMORY", "2"], "ERR CONFIG SET failed (possibly related to argument 'MAXMEMORY') - duplicate parameter"),
    (["maxmemory", "1", "hz"], "ERR syntax error"),
    (["maxmemory"], "ERR wrong number of arguments for 'config|set' command"),
    (["maxmemory", "abc", "foo", "bar"], "ERR Unknown option or number of arguments for CONFIG SET - 'foo'"),
    (["databases", "3", "foo", "1"], "ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"),
    (["hz", "abc", "maxmemory", "xyz"], "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"),
    (["slave-read-only", "maybe"], "ERR CONFIG SET failed (possibly related to argument 'slave-read-only') - argument must be 'yes' or 'no'"),
    (["appendfsync", "bogus"], "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: everysec, always, no"),
    (["maxmemory-policy", "bogus"], "ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"),
    (["lfu-log-factor", "-1"], "ERR CONFIG SET failed (possibly related to argument 'lfu-log-factor') - argument must be between 0 and 2147483647 inclusive"),
    (["proto-max-bulk-len", "100"], "ERR CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive"),
    (["save", "100 x"], "ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"),
    (["client-output-buffer-limit", "foo 1 2 3"], "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Invalid client class specified in buffer limit configuration."),
    (["hz", "+5"], "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"),
    (["hz", "9223372036854775808"], "ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"),
    (["maxmemory-eviction-tenacity", "101"], "ERR CONFIG SET failed (possibly related to argument 'maxmemory-eviction-tenacity') - argument must be between 0 and 100 inclusive"),
    (["maxmemory-clients", "101%"], "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - percentage argument must be less or equal to 100"),
    (["maxmemory-clients", "-1"], "ERR CONFIG SET failed (possibly related to argument 'maxmemory-clients') - argument must be a memory or percent value"),
    (["disable-thp", "no"], "ERR CONFIG SET failed (possibly related to argument 'disable-thp') - can't set immutable config"),
    (["set-max-listpack-entries", "5"], "ERR Unknown option or number of arguments for CONFIG SET - 'set-max-listpack-entries'"),
])
def test_config_set_errors_are_redis_texts(h, args, error):
    assert str(h.run("CONFIG", "SET", *args)) == error


def test_config_set_is_all_or_nothing(h):
    reply = h.run("CONFIG", "SET", "maxmemory", "10mb", "maxmemory-policy", "bogus")
    assert str(reply).startswith("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy')")
    assert h.node.config["maxmemory"] == 0


def test_config_set_restores_when_a_listener_refuses(h):
    def refuse(name, value):
        if name == "hz" and value == 99:
            raise config_mod.ConfigError("cannot apply")

    h.node.config.listeners.append(refuse)
    reply = h.run("CONFIG", "SET", "maxmemory", "1mb", "hz", "99")
    assert str(reply) == "ERR CONFIG SET failed (possibly related to argument 'hz') - cannot apply"
    assert h.node.config["maxmemory"] == 0 and h.node.config["hz"] == 10


def test_config_set_name_and_alias_are_distinct_entries(h):
    assert h.run("CONFIG", "SET", "list-max-ziplist-size", "3", "list-max-listpack-size", "4") == b"OK"
    assert h.node.config["list-max-listpack-size"] == 4


def test_config_set_dir_changes_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    h = Harness(enable_protected_configs="yes")
    target = tmp_path / "data"
    target.mkdir()
    assert h.run("CONFIG", "SET", "dir", "data") == b"OK"
    assert os.getcwd() == str(target)
    assert h.run("CONFIG", "GET", "dir") == [b"dir", str(target).encode()]
    reply = h.run("CONFIG", "SET", "dir", str(tmp_path / "missing"))
    assert str(reply) == "ERR CONFIG SET failed (possibly related to argument 'dir') - No such file or directory"
    assert os.getcwd() == str(target)


def test_config_set_protected_allowed_locally_with_local_mode():
    h = Harness(enable_protected_configs="local")
    assert h.run("CONFIG", "SET", "dbfilename", "x.rdb") == b"OK"
    remote = h.node.new_client("10.1.2.3:4000")
    assert str(h.run("CONFIG", "SET", "dbfilename", "y.rdb", client=remote)).endswith("can't set protected config")


# ---- CONFIG RESETSTAT / HELP ---------------------------------------------------


def test_config_resetstat(h):
    h.run("RPUSH", "l", "v")
    h.run("LLEN", "l")
    h.run("GET", "k")
    h.run("BOGUS")
    assert h.run("CONFIG", "RESETSTAT") == b"OK"
    text = info_text(h, "stats", "commandstats", "errorstats")
    assert field(text, "keyspace_hits") == "0"
    assert field(text, "total_error_replies") == "0"
    assert field(text, "total_commands_processed") == "1"  # CONFIG RESETSTAT itself, counted after
    assert fields(text, "Errorstats") == []
    assert [n for n in fields(text, "Commandstats")] == ["cmdstat_config|resetstat"]


def test_config_help_and_unknown_subcommand(h):
    reply = h.run("CONFIG", "HELP")
    assert reply[0] == b"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert len(reply) == 11 and reply[-1] == b"    Prints this help."
    assert h.raw("CONFIG", "HELP").startswith(b"*11\r\n+CONFIG <subcommand>")
    assert str(h.run("CONFIG", "foo")) == "ERR unknown subcommand 'foo'. Try CONFIG HELP."
    assert str(h.run("config", "resetstat", "x")) == "ERR wrong number of arguments for 'config|resetstat' command"


# ---- CONFIG REWRITE --------------------------------------------------------------


def test_config_rewrite_without_file(h):
    assert str(h.run("CONFIG", "REWRITE")) == "ERR The server is running without a config file"


def _node_from(path):
    h = Harness()
    loaded = config_mod.load(str(path))
    h.node.config.values.update(loaded.values)
    h.node.config.path = loaded.path
    return h


def test_config_rewrite_redis_conf_keeps_the_users_lines(tmp_path):
    path = tmp_path / "r.conf"
    path.write_text("# my comment\nport 7380\n   maxmemory 100mb\nslaveof 127.0.0.1 9999\nsave 900 1\nsave 300 10\nsave 60 10000\n\n# another\nhz 10\nslave-read-only yes\ndbfilename \"foo.rdb\"\n")
    h = _node_from(path)
    h.run("CONFIG", "SET", "maxmemory", "5000", "hz", "20", "requirepass", 'a b"c', "replica-priority", "5")
    h.run("CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0 0", "save", "900 1 300 10")
    assert h.run("CONFIG", "REWRITE") == b"OK"
    assert path.read_text() == (
        "# my comment\nport 7380\nmaxmemory 5000\nreplicaof 127.0.0.1 9999\nsave 900 1\nsave 300 10\n\n# another\nhz 20\n"
        'replica-read-only yes\ndbfilename "foo.rdb"\n\n# Generated by CONFIG REWRITE\n'
        'dir "%s"\nrequirepass "a b\\"c"\nclient-output-buffer-limit pubsub 1mb 0 0\nreplica-priority 5\n' % os.getcwd()
    )
    # The rewritten file loads back to the values it was written from.
    loaded = config_mod.load(str(path))
    for name in ("port", "maxmemory", "hz", "requirepass", "replicaof", "save", "client-output-buffer-limit", "replica-priority"):
        assert loaded.values[name] == h.node.config.values[name]


def test_config_file_save_lines_add_up(tmp_path):
    path = tmp_path / "r.conf"
    path.write_text("save 900 1\nsave 300 10\n")
    assert config_mod.load(str(path)).values["save"] == [(900, 1), (300, 10)]
    path.write_text("save 900 1\nsave \"\"\n")
    assert config_mod.load(str(path)).values["save"] == []


def test_config_rewrite_drops_orphans_and_unknown_lines(tmp_path):
    path = tmp_path / "r.conf"
    path.write_text("hz 10\nhz 11\nreplicaof 10.0.0.1 6379\n\n\n\nbind 127.0.0.1\n")
    h = _node_from(path)
    h.node.config.values["replicaof"] = ""
    path.write_text(path.read_text() + "frobnicate 1\n")
    assert h.run("CONFIG", "REWRITE") == b"OK"
    # The second hz line is orphaned, replicaof goes on a master, bind at its default goes.
    # Redis always writes save and dir.
    assert path.read_text() == "hz 11\n\n# ??? frobnicate 1\n\n# Generated by CONFIG REWRITE\ndir \"%s\"\nsave 3600 1\nsave 300 100\nsave 60 10000\n" % os.getcwd()


def test_config_rewrite_yaml_stays_yaml(tmp_path):
    path = tmp_path / "node.yaml"
    path.write_text("# triokv node\nport: 7000\nsave:\n  - 900 1\nappendonly: no\nmaxmemory: 1mb\n")
    h = _node_from(path)
    h.run("CONFIG", "SET", "appendonly", "yes", "maxmemory", "2mb", "maxmemory-policy", "allkeys-lru", "save", "")
    assert h.run("CONFIG", "REWRITE") == b"OK"
    text = path.read_text()
    assert text.startswith("# triokv node\nport: 7000\nsave: \"\"\nappendonly: yes\nmaxmemory: \"2mb\"\n")
    assert "# Generated by CONFIG REWRITE\n" in text
    data = yaml.safe_load(text)
    assert data["maxmemory-policy"] == "allkeys-lru"
    loaded = config_mod.load(str(path))
    for name in ("port", "save", "appendonly", "maxmemory", "maxmemory-policy"):
        assert loaded.values[name] == h.node.config.values[name]


def test_config_rewrite_reports_write_errors(tmp_path):
    path = tmp_path / "gone" / "r.conf"
    h = Harness()
    h.node.config.path = str(path)
    assert str(h.run("CONFIG", "REWRITE")) == "ERR Rewriting config file: No such file or directory"


# ---- COMMAND -------------------------------------------------------------------

# Byte for byte from redis-server 7.0.15.
REDIS_INFO_INFO = b"*1\r\n*10\r\n$4\r\ninfo\r\n:-1\r\n*2\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@slow\r\n+@dangerous\r\n*3\r\n$23\r\nnondeterministic_output\r\n$25\r\nrequest_policy:all_shards\r\n$23\r\nresponse_policy:special\r\n*0\r\n*0\r\n"
REDIS_INFO_INFO3 = b"*1\r\n*10\r\n$4\r\ninfo\r\n:-1\r\n~2\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@slow\r\n+@dangerous\r\n~3\r\n$23\r\nnondeterministic_output\r\n$25\r\nrequest_policy:all_shards\r\n$23\r\nresponse_policy:special\r\n~0\r\n~0\r\n"
REDIS_INFO_CONFIG_SET3 = b"*1\r\n*10\r\n$10\r\nconfig|set\r\n:-4\r\n~4\r\n+admin\r\n+noscript\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n~3\r\n+@admin\r\n+@slow\r\n+@dangerous\r\n~2\r\n$24\r\nrequest_policy:all_nodes\r\n$29\r\nresponse_policy:all_succeeded\r\n~0\r\n~0\r\n"
REDIS_DOCS_INFO = b"*2\r\n$4\r\ninfo\r\n*12\r\n$7\r\nsummary\r\n$47\r\nGet information and statistics about the server\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$7\r\nhistory\r\n*1\r\n*2\r\n$5\r\n7.0.0\r\n$52\r\nAdded support for taking multiple section arguments.\r\n$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$7\r\nsection\r\n$4\r\ntype\r\n$6\r\nstring\r\n$5\r\nflags\r\n*2\r\n+optional\r\n+multiple\r\n"
REDIS_DOCS_INFO3 = b"%1\r\n$4\r\ninfo\r\n%6\r\n$7\r\nsummary\r\n$47\r\nGet information and statistics about the server\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$7\r\nhistory\r\n~1\r\n*2\r\n$5\r\n7.0.0\r\n$52\r\nAdded support for taking multiple section arguments.\r\n$9\r\narguments\r\n*1\r\n%3\r\n$4\r\nname\r\n$7\r\nsection\r\n$4\r\ntype\r\n$6\r\nstring\r\n$5\r\nflags\r\n~2\r\n+optional\r\n+multiple\r\n"
REDIS_DOCS_LIST3 = b"%1\r\n$12\r\ncommand|list\r\n%5\r\n$7\r\nsummary\r\n$35\r\nGet an array of Redis command names\r\n$5\r\nsince\r\n$5\r\n7.0.0\r\n$5\r\ngroup\r\n$6\r\nserver\r\n$10\r\ncomplexity\r\n$50\r\nO(N) where N is the total number of Redis commands\r\n$9\r\narguments\r\n*1\r\n%5\r\n$4\r\nname\r\n$8\r\nfilterby\r\n$4\r\ntype\r\n$5\r\noneof\r\n$5\r\ntoken\r\n$8\r\nFILTERBY\r\n$5\r\nflags\r\n~1\r\n+optional\r\n$9\r\narguments\r\n*3\r\n%3\r\n$4\r\nname\r\n$11\r\nmodule-name\r\n$4\r\ntype\r\n$6\r\nstring\r\n$5\r\ntoken\r\n$6\r\nMODULE\r\n%3\r\n$4\r\nname\r\n$8\r\ncategory\r\n$4\r\ntype\r\n$6\r\nstring\r\n$5\r\ntoken\r\n$6\r\nACLCAT\r\n%3\r\n$4\r\nname\r\n$7\r\npattern\r\n$4\r\ntype\r\n$7\r\npattern\r\n$5\r\ntoken\r\n$7\r\nPATTERN\r\n"


def test_command_info_matches_redis_bytes(h):
    assert h.raw("COMMAND", "INFO", "info") == REDIS_INFO_INFO
    h.client.resp3 = True
    assert h.raw("COMMAND", "INFO", "info") == REDIS_INFO_INFO3
    assert h.raw("COMMAND", "INFO", "CONFIG|SET") == REDIS_INFO_CONFIG_SET3


def test_command_docs_matches_redis_bytes(h):
    assert h.raw("COMMAND", "DOCS", "info") == REDIS_DOCS_INFO
    h.client.resp3 = True
    assert h.raw("COMMAND", "DOCS", "INFO") == REDIS_DOCS_INFO3
    assert h.raw("COMMAND", "DOCS", "command|list") == REDIS_DOCS_LIST3


def test_command_info_container_lists_subcommands(h):
    entry = h.run("COMMAND", "INFO", "config")[0]
    assert entry[:7] == [b"config", -2, [], 0, 0, 0, [b"@slow"]]
    subs = {sub[0]: sub for sub in entry[9]}
    assert set(subs) == {b"config|get", b"config|set", b"config|resetstat", b"config|rewrite", b"config|help"}
    assert subs[b"config|help"][1:7] == [2, [b"loading", b"stale"], 0, 0, 0, [b"@slow"]]


def test_command_info_unknown_names_are_null(h):
    assert h.raw("COMMAND", "INFO", "nosuch") == b"*1\r\n$-1\r\n"
    h.client.resp3 = True
    assert h.raw("COMMAND", "INFO", "nosuch", "config|nosuch") == b"*2\r\n_\r\n_\r\n"
    assert h.raw("COMMAND", "DOCS", "nosuch") == b"%0\r\n"


def test_command_all_count_and_list(h):
    everything = h.run("COMMAND")
    assert len(everything) == h.run("COMMAND", "COUNT") == len(table.COMMANDS)
    assert h.run("COMMAND", "INFO") == everything
    names = h.run("COMMAND", "LIST")
    assert b"config" in names and b"config|get" in names and b"command|list" in names
    assert names.index(b"config|get") > names.index(b"config")
    assert len(h.run("COMMAND", "DOCS")) == 2 * len(table.COMMANDS)


def test_command_list_filters(h):
    assert sorted(h.run("COMMAND", "LIST", "FILTERBY", "PATTERN", "CONF*")) == sorted([b"config", b"config|get", b"config|set", b"config|resetstat", b"config|rewrite", b"config|help"])
    assert h.run("COMMAND", "LIST", "FILTERBY", "MODULE", "x") == []
    assert h.run("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch") == []
    connection = h.run("COMMAND", "LIST", "filterby", "aclcat", "CONNECTION")
    assert b"command|info" in connection and b"config|get" not in connection
    for args in (["x"], ["FILTERBY"], ["FILTERBY", "bad", "x"], ["FILTERBY", "PATTERN", "a", "b"]):
        assert str(h.run("COMMAND", "LIST", *args)) == "ERR syntax error"


def test_command_help_and_errors(h):
    reply = h.run("COMMAND", "HELP")
    assert len(reply) == 21 and reply[0] == b"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert str(h.run("COMMAND", "FoO")) == "ERR unknown subcommand 'FoO'. Try COMMAND HELP."
    assert str(h.run("COMMAND", "COUNT", "x")) == "ERR wrong number of arguments for 'command|count' command"
    assert str(h.run("COMMAND", "GETKEYS", "get")) == "ERR wrong number of arguments for 'command|getkeys' command"


def test_command_getkeys_errors(h, temp_commands):
    temp_commands("t.get", 2, "readonly fast", 1, 1, 1)
    assert str(h.run("COMMAND", "GETKEYS", "nosuch", "a")) == "ERR Invalid command specified"
    assert str(h.run("COMMAND", "GETKEYS", "config", "get", "x")) == "ERR The command has no key arguments"
    assert str(h.run("COMMAND", "GETKEYS", "t.get", "a", "b")) == "ERR Invalid number of arguments specified for command"
    assert h.run("COMMAND", "GETKEYS", "T.GET", "a") == [b"a"]


def test_command_key_specs_derived_from_positions(h, temp_commands):
    temp_commands("t.mset", -3, "write denyoom", 1, -1, 2, key_flags="OW update")
    temp_commands("t.pair", 3, "readonly", 1, 2, 1)
    assert h.run("COMMAND", "GETKEYS", "t.mset", "a", "1", "b", "2") == [b"a", b"b"]
    assert h.run("COMMAND", "GETKEYS", "t.mset", "a", "1", "b") == [b"a", b"b"]
    assert h.run("COMMAND", "GETKEYSANDFLAGS", "t.pair", "x", "y") == [[b"x", [b"RO", b"access"]], [b"y", [b"RO", b"access"]]]
    entry = h.run("COMMAND", "INFO", "t.mset")[0]
    assert entry[:6] == [b"t.mset", -3, [b"write", b"denyoom"], 1, -1, 2]
    assert entry[6] == [b"@keyspace", b"@write", b"@slow"]
    assert entry[8] == [[b"flags", [b"OW", b"update"], b"begin_search", [b"type", b"index", b"spec", [b"index", 1]], b"find_keys", [b"type", b"range", b"spec", [b"lastkey", -1, b"keystep", 2, b"limit", 0]]]]
    assert h.run("COMMAND", "INFO", "t.pair")[0][8][0][5] == [b"type", b"range", b"spec", [b"lastkey", 1, b"keystep", 1, b"limit", 0]]


def test_command_movable_keys(h, temp_commands):
    def numkeys(argv):
        n = int(argv[1])
        return list(range(2, 2 + n))

    temp_commands("t.union", -3, "readonly", key_finder=numkeys, group="sorted_set")
    temp_commands("t.eval", -3, "noscript no_mandatory_keys", key_specs=[meta.keynum_spec("RW access update", 2)])
    assert h.run("COMMAND", "GETKEYS", "t.union", "2", "a", "b") == [b"a", b"b"]
    assert str(h.run("COMMAND", "GETKEYS", "t.union", "x", "a")) == "ERR Invalid arguments specified for command"
    assert str(h.run("COMMAND", "GETKEYS", "t.union", "5", "a", "b")) == "ERR Invalid arguments specified for command"
    entry = h.run("COMMAND", "INFO", "t.union")[0]
    assert entry[2] == [b"readonly", b"movablekeys"]
    assert entry[6] == [b"@read", b"@sortedset", b"@slow"]
    assert entry[8][0][1] == [b"RO", b"access", b"incomplete"]
    assert h.run("COMMAND", "GETKEYS", "t.eval", "s", "2", "k1", "k2", "arg") == [b"k1", b"k2"]
    assert h.run("COMMAND", "GETKEYS", "t.eval", "s", "0") == []
    assert h.run("COMMAND", "GETKEYSANDFLAGS", "t.eval", "s", "1", "k") == [[b"k", [b"RW", b"access", b"update"]]]


def test_command_docs_from_the_table(h, temp_commands):
    temp_commands("t.doc", 2, "write", 1, 1, 1, group="list", summary="A test command", since="9.9.9",
                  docs={"complexity": "O(1)", "doc_flags": ["deprecated"], "deprecated_since": "9.9.10", "replaced_by": "`X`",
                        "arguments": [{"name": "key", "type": "key", "key_spec_index": 0}]})
    h.client.resp3 = True
    assert h.raw("COMMAND", "DOCS", "t.doc") == (
        b"%1\r\n$5\r\nt.doc\r\n%8\r\n$7\r\nsummary\r\n$14\r\nA test command\r\n$5\r\nsince\r\n$5\r\n9.9.9\r\n"
        b"$5\r\ngroup\r\n$4\r\nlist\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\ndoc_flags\r\n~1\r\n+deprecated\r\n"
        b"$16\r\ndeprecated_since\r\n$6\r\n9.9.10\r\n$11\r\nreplaced_by\r\n$3\r\n`X`\r\n"
        b"$9\r\narguments\r\n*1\r\n%3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n"
    )


def test_acl_categories_from_flags_and_group(temp_commands):
    assert meta.acl_categories(temp_commands("t.a", 2, "write denyoom fast", 1, 1, 1, group="string")) == ["write", "string", "fast"]
    assert meta.acl_categories(temp_commands("t.b", 2, "admin noscript", group="server")) == ["admin", "slow", "dangerous"]
    assert meta.acl_categories(temp_commands("t.c", 2, "write blocking", 1, 1, 1, group="list")) == ["write", "list", "slow", "blocking"]
    assert meta.acl_categories(temp_commands("t.d", 2, "readonly", group="generic", acl="keyspace dangerous")) == ["keyspace", "read", "slow", "dangerous"]
    assert meta.acl_categories(temp_commands("t.e", 2, "pubsub fast", group="pubsub")) == ["pubsub", "fast"]


def test_command_keyword_key_specs(h, temp_commands):
    # XREAD-like: keys after STREAMS, half of what follows (limit 2).
    temp_commands("t.xread", -4, "readonly blocking", key_specs=[meta.keyword_spec("RO access", "STREAMS", 1, -1, 1, 2)])
    assert h.run("COMMAND", "GETKEYS", "t.xread", "COUNT", "2", "STREAMS", "s1", "s2", "0", "0") == [b"s1", b"s2"]
    assert h.run("COMMAND", "GETKEYSANDFLAGS", "t.xread", "streams", "a", "0") == [[b"a", [b"RO", b"access"]]]
    assert str(h.run("COMMAND", "GETKEYS", "t.xread", "COUNT", "2", "x")) == "ERR Invalid arguments specified for command"
    begin = h.run("COMMAND", "INFO", "t.xread")[0][8][0][3]
    assert begin == [b"type", b"keyword", b"spec", [b"keyword", b"STREAMS", b"startfrom", 1]]


def test_command_table_agrees_with_redis_description():
    """The table (arity, flags, key positions) drives dispatch; redis_commands.json is what
    Redis says of the same commands (scripts/capture_command_docs.py): they must agree."""
    from node.commands import meta

    disagree = []
    for cmd in table.COMMANDS.values():
        for one in (cmd, *cmd.subcommands.values()):
            known = meta.REDIS.get(one.name)
            if known is None:
                continue
            ours = (one.arity, meta.visible_flags(one), one.first_key, one.last_key, one.step)
            theirs = (known["arity"], known["flags"], known["first"], known["last"], known["step"])
            if ours != theirs:
                disagree.append((one.name, ours, theirs))
    assert disagree == []
    assert meta.REDIS["_redis_version"] == "7.0.15"


def test_command_getkeysandflags_follows_key_specs(h):
    assert h.run("COMMAND", "GETKEYSANDFLAGS", "set", "a", "b") == [[b"a", [b"OW", b"update"]]]
    assert h.run("COMMAND", "GETKEYSANDFLAGS", "set", "a", "b", "get") == [[b"a", [b"RW", b"access", b"update"]]]
    assert h.run("COMMAND", "GETKEYSANDFLAGS", "lmove", "a", "b", "left", "right") == [[b"a", [b"RW", b"access", b"delete"]], [b"b", [b"RW", b"insert"]]]
    assert str(h.run("COMMAND", "GETKEYS", "zunion", "3", "a", "b")) == "ERR Invalid arguments specified for command"


def test_config_memory_or_percent(h):
    assert h.run("CONFIG", "SET", "maxmemory-clients", "10%") == b"OK"
    assert h.run("CONFIG", "GET", "maxmemory-clients") == [b"maxmemory-clients", b"10%"]
    assert h.run("CONFIG", "SET", "maxmemory-clients", "1kb") == b"OK"
    assert h.run("CONFIG", "GET", "maxmemory-clients") == [b"maxmemory-clients", b"1024"]
    assert h.run("CONFIG", "SET", "lua-time-limit", "6000") == b"OK"
    assert h.run("CONFIG", "GET", "busy-reply-threshold") == [b"busy-reply-threshold", b"6000"]


def test_commandstats_are_kept_per_node(h):
    """Several nodes share one process in simulations: each counts only its own calls."""
    other = Harness()
    h.run("INCR", "n")
    h.run("INCR", "n")
    assert b"cmdstat_incr:calls=2," in h.run("INFO", "commandstats")
    assert b"cmdstat_incr" not in other.run("INFO", "commandstats")
