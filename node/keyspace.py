"""Databases, expiry, and the hooks every write goes through.

Theory of operation
-------------------
A Database holds `data` (key -> value) and `expires` (key -> absolute unix ms).
Value types are told apart by their Python class:

    bytes        string          ListValue (deque)   list
    int          string          HashValue           hash
    SetValue     set             ZSet                sorted set (node.datatypes.zset)

An int is a counter: INCR and its family store their result as a Python int
(Redis's int encoding), so the next increment neither parses nor formats a
string. Commands never see one: `lookup` and `peek` hand it out as its decimal
bytes (`as_string`); only INCR's own fast path and the code that reads `data`
directly (sizes, RDB, DEBUG, MEMORY) deal with the int.

Reads go through `lookup`, which deletes a logically expired key on a master
(lazy expiry) and only hides it on a replica, where the master's DEL does the
deletion. `active_expire` reclaims keys nobody reads: a min-heap of deadlines
(stale entries are skipped) is popped within a time budget.

Every change to a key goes through `set`/`delete` or, for in-place changes to a
collection, `modified(key)`. That single hook bumps the dirty counter, breaks
WATCHes on the key, wakes clients blocked on it, and keeps the memory estimate.

Memory is an estimate, honest about Python's own overheads: strings are
counted exactly from their lengths; collections are re-estimated on every
change from their length and a few sampled elements.
"""

import heapq
import random
import sys
import time
from collections import deque

from .errors import CommandError, WRONGTYPE


class ListValue(deque):
    __slots__ = ()


class HashValue(dict):
    # big: Redis converted this hash out of its compact encoding (a one-way change, see
    # node.encoding); None until known, as for a loaded hash, then read from its contents.
    __slots__ = ("big",)

    def __init__(self, *items):
        dict.__init__(self, *items)
        self.big = None


class SetValue(set):
    __slots__ = ("big",)  # as HashValue.big: past the intset encoding for good

    def __init__(self, *members):
        set.__init__(self, *members)
        self.big = None


# Python overheads, measured with sys.getsizeof on CPython 3.11, 64-bit.
BYTES_OVERHEAD = sys.getsizeof(b"")  # 33
KEY_ENTRY_OVERHEAD = 48  # dict slot and index share for one key, amortized
COLLECTION_ELEM_OVERHEAD = 40


def as_string(value):
    """A stored value as commands see it: a counter (an int) as its decimal bytes."""
    return b"%d" % value if value.__class__ is int else value


def type_name(value) -> str:
    """The TYPE reply for a stored value."""
    cls = value.__class__
    if cls is bytes or cls is int:
        return "string"
    if cls is ListValue:
        return "list"
    if cls is HashValue:
        return "hash"
    if cls is SetValue:
        return "set"
    return "zset"


def estimate_size(value) -> int:
    """Bytes a value takes, from its length and a few sampled elements."""
    cls = value.__class__
    if cls is bytes:
        return BYTES_OVERHEAD + len(value)
    n = len(value)
    if n == 0:
        return 64
    if cls is ListValue:
        sample = [value[0], value[-1]]
    elif cls is HashValue:
        # A field costs two objects (name and value) and its slot.
        k = next(iter(value))
        return 200 + int(n * (len(k) + len(value[k]) + 2 * BYTES_OVERHEAD + COLLECTION_ELEM_OVERHEAD))
    elif cls is SetValue:
        sample = [next(iter(value))]
    else:
        sample = [value.sample_member()]
    avg = sum(len(s) + BYTES_OVERHEAD for s in sample) / len(sample)
    return 64 + int(n * (avg + COLLECTION_ELEM_OVERHEAD))


def now_ms() -> int:
    return int(time.time() * 1000)


# A string this long takes some 0.1 ms to free (munmap), 40 ms at 512 MB.
LARGE_FREE = 1024 * 1024


class Database:
    __slots__ = ("id", "space", "data", "expires", "_heap", "watched", "blocking", "access", "freq", "freq_time", "coll_sizes", "coll_bytes", "stale_sizes", "string_bytes", "_sample", "avg_ttl", "str_encodings")

    def __init__(self, space, index: int):
        self.id = index
        self.space = space
        self.data = {}
        self.expires = {}
        self._heap = []
        # key -> {client: expired_at_watch} for clients WATCHing it (insertion-ordered).
        self.watched = {}
        self.blocking = {}  # key -> deque of clients blocked on it
        self.access = {}  # key -> LRU clock (seconds) of last access
        self.freq = {}  # key -> LFU counter (only under an LFU policy)
        self.freq_time = {}  # key -> LFU minutes clock of the counter's last decay
        self.coll_sizes = {}  # key -> estimated bytes, for collections
        self.coll_bytes = 0  # sum of coll_sizes, kept as it changes (eviction reads it per write)
        self.stale_sizes = set()  # collections changed since their size was last estimated
        self.string_bytes = 0
        self._sample = None
        self.avg_ttl = 0
        # key -> "raw" or "embstr" where a string's encoding is not the one its contents
        # imply (APPEND, SETRANGE, INCRBYFLOAT results); any new value at the key drops it.
        self.str_encodings = {}

    # ---- reads -------------------------------------------------------

    def lookup(self, key):
        """The live value at key, or None. Expires lazily; records the access."""
        value = self.data.get(key)
        space = self.space
        if value is None:
            if space.count_stats:
                space.keyspace_misses += 1
            return None
        if self.expires:
            when = self.expires.get(key)
            if when is not None and when <= space.clock() and not space.loading:
                if not space.is_replica:
                    self._expire_now(key)
                if space.count_stats:
                    space.keyspace_misses += 1
                return None
        if space.count_stats:
            space.keyspace_hits += 1
        self.access[key] = space.lru_clock
        if self.freq:
            space.bump_freq(self, key)
        if value.__class__ is int:
            return b"%d" % value
        return value

    def lookup_read(self, key):
        """lookup() that counts its hit or miss even inside a write command, where Redis
        reads with lookupKeyRead (SET ... GET, GETDEL, GETEX, COPY's source, SORT)."""
        space = self.space
        counting = space.count_stats
        space.count_stats = True
        try:
            return self.lookup(key)
        finally:
            space.count_stats = counting

    def probe(self, key):
        """peek() that counts a hit or miss: EXISTS, TYPE, TTL and OBJECT do not touch
        the key's access time, yet count as reads (Redis's LOOKUP_NOTOUCH)."""
        value = self.peek(key)
        space = self.space
        if value is None:
            space.keyspace_misses += 1
        else:
            space.keyspace_hits += 1
        return value

    def lookup_typed(self, key, cls):
        """lookup, refusing a value of another type with WRONGTYPE."""
        value = self.lookup(key)
        if value is not None and value.__class__ is not cls:
            raise CommandError(WRONGTYPE)
        return value

    def exists(self, key) -> bool:
        return self.peek(key) is not None

    def peek(self, key):
        """The live value without counting an access (for EXISTS-like internals)."""
        value = self.data.get(key)
        if value is None:
            return None
        if self.expires:
            when = self.expires.get(key)
            if when is not None and when <= self.space.clock() and not self.space.loading:
                if not self.space.is_replica:
                    self._expire_now(key)
                return None
        if value.__class__ is int:
            return b"%d" % value
        return value

    def ttl_ms(self, key):
        """Absolute expiry in unix ms, or None when the key is persistent."""
        return self.expires.get(key)

    def __len__(self):
        return len(self.data)

    # ---- writes ------------------------------------------------------

    def set(self, key, value, keep_ttl: bool = False):
        """Store value at key, replacing any old value (and its TTL unless keep_ttl).

        The hot path of every string write: the modified() hook is inlined."""
        data = self.data
        old = data.get(key)
        data[key] = value
        space = self.space
        space.dirty += 1
        if old is not None:
            if old.__class__ is bytes:  # _forget_size, inlined for the usual overwrite
                size = len(old)
                self.string_bytes -= size
                if size >= LARGE_FREE:
                    space.freed_large = True
            elif old.__class__ is not int:
                self.coll_bytes -= self.coll_sizes.pop(key, 0)
                space.freed_large = True
            if self.str_encodings:
                self.str_encodings.pop(key, None)
        if value.__class__ is bytes:
            self.string_bytes += len(value)
        elif value.__class__ is not int:
            self._set_coll_size(key, estimate_size(value))
        if self.expires and not keep_ttl:
            self.expires.pop(key, None)
        self.access[key] = space.lru_clock
        if space.lfu and key not in self.freq:
            # A new key starts at LFU_INIT_VAL; an overwrite keeps its counter (Redis's dbSetValue).
            self.freq[key] = 5
            self.freq_time[key] = space.lfu_minutes()
        if self.watched or self.blocking:
            self._signal(key)

    def set_string(self, key, value):
        """set(key, value) for a bytes value and no TTL kept (SET key value), cut to what a
        string over a string, or over nothing, needs: the hottest write."""
        data = self.data
        old = data.get(key)
        space = self.space
        if old.__class__ is bytes:
            size = len(old)
            self.string_bytes += len(value) - size
            if size >= LARGE_FREE:
                space.freed_large = True
            if self.str_encodings:
                self.str_encodings.pop(key, None)
        elif old is None and not space.lfu:
            self.string_bytes += len(value)
        else:
            self.set(key, value)  # a collection replaced, or a new key's LFU counter to start
            return
        data[key] = value
        space.dirty += 1
        if self.expires:
            self.expires.pop(key, None)
        self.access[key] = space.lru_clock
        if self.watched or self.blocking:
            self._signal(key)

    def set_pairs(self, argv):
        """set() for each key/value pair in argv[1:] (MSET). With no TTLs, encodings, LFU,
        WATCH or blocked clients in play, only the value, its size and its access time
        change: that loop runs with its invariants read once."""
        space = self.space
        if self.expires or self.str_encodings or space.lfu or self.watched or self.blocking:
            for i in range(1, len(argv), 2):
                self.set(argv[i], argv[i + 1])
            return
        data, access, clock = self.data, self.access, space.lru_clock
        grown = stored = 0
        for i in range(1, len(argv), 2):
            key, value = argv[i], argv[i + 1]
            old = data.get(key)
            if old is not None and old.__class__ is not bytes:
                self.set(key, value)  # a collection replaced: set() drops its size
                continue
            data[key] = value
            access[key] = clock
            grown += len(value) - (0 if old is None else len(old))
            stored += 1
        self.string_bytes += grown
        space.dirty += stored

    def store_counter(self, key, number: int):
        """Store an INCR result, as an int, at a key just read by lookup() (absent, or a live
        string), keeping its TTL: what set(key, ..., keep_ttl=True) does there (the access
        time and LFU counter were set by that lookup, or are set here for a new key)."""
        data = self.data
        old = data.get(key)
        if old.__class__ is not bytes and old.__class__ is not int:
            self.set(key, number, keep_ttl=True)  # a new key (or, on a replica, an expired one)
            return
        data[key] = number
        if old.__class__ is bytes:
            self.string_bytes -= len(old)
        self.space.dirty += 1
        if self.str_encodings:
            self.str_encodings.pop(key, None)
        if self.watched or self.blocking:
            self._signal(key)

    def add_new(self, key, value):
        """Store a new collection at key (known absent) without touching TTLs."""
        self.data[key] = value
        self.access[key] = self.space.lru_clock
        self._set_coll_size(key, 64)

    def delete(self, key) -> bool:
        """Remove key if present (expired or not). True if something was removed."""
        old = self.data.pop(key, None)
        if old is None:
            return False
        self._forget_size(key, old)
        self.expires.pop(key, None)
        self.access.pop(key, None)
        if self.str_encodings:
            self.str_encodings.pop(key, None)
        if self.freq:
            self.freq.pop(key, None)
            self.freq_time.pop(key, None)
        self.modified(key)
        return True

    def _forget_size(self, key, old):
        if old.__class__ is bytes:
            self.string_bytes -= len(old)
        elif old.__class__ is not int:
            self.coll_bytes -= self.coll_sizes.pop(key, 0)

    def _set_coll_size(self, key, size):
        self.coll_bytes += size - self.coll_sizes.get(key, 0)
        self.coll_sizes[key] = size

    def modified(self, key):
        """The single hook for every change to key (Redis's signalModifiedKey + dirty++)."""
        self.space.dirty += 1
        if self.watched or self.blocking:
            self._signal(key)
        value = self.data.get(key)
        if value is not None and value.__class__ is not bytes and value.__class__ is not int:
            if not value:
                # Redis never keeps an empty collection: it deletes the key.
                self.delete(key)
                return
            # Re-estimated when memory is next read (eviction, INFO), not on every change.
            self.stale_sizes.add(key)

    def grew(self, key):
        """modified() for a collection that cannot be empty after the change (a push, an
        add, a field set): the emptiness check and the value's lookup are skipped."""
        self.space.dirty += 1
        if self.watched or self.blocking:
            self._signal(key)
        self.stale_sizes.add(key)

    def _signal(self, key):
        """Break WATCHes on key and wake clients blocked on it."""
        clients = self.watched.get(key)
        if clients:
            self._touch_watchers(key, clients)
        if key in self.blocking:
            self.space.ready_keys.append((self, key))

    def key_is_expired(self, key) -> bool:
        """Present with a deadline already past (Redis's keyIsExpired: no deletion)."""
        when = self.expires.get(key)
        return when is not None and when <= self.space.clock() and not self.space.loading

    def _touch_watchers(self, key, clients):
        """Redis 7.0's touchWatchedKey. A client that WATCHed the key while it was
        already expired saw "no key": the expired key's deletion changes nothing for
        it (the flag is cleared), and only a live value written there breaks its WATCH."""
        for client, expired_at_watch in clients.items():
            if expired_at_watch:
                if key not in self.data:
                    clients[client] = False
                    continue
                if self.key_is_expired(key):
                    continue
            client.dirty_cas = True

    def touch_all_watchers(self, replaced_with=None):
        """Redis 7.0's touchAllWatchedKeysInDb, for FLUSHDB/FLUSHALL (this db emptied)
        and SWAPDB (its contents replaced_with another db's): a WATCH breaks when the
        key existed here or will exist after, with the same expired-at-WATCH rules."""
        for key, clients in self.watched.items():
            here = key in self.data
            there = replaced_with is not None and key in replaced_with.data
            if not (here or there):
                continue
            for client, expired_at_watch in clients.items():
                if expired_at_watch:
                    if not there:
                        clients[client] = False
                        continue
                    if replaced_with.key_is_expired(key):
                        continue
                elif not here and replaced_with.key_is_expired(key):
                    clients[client] = True
                    continue
                client.dirty_cas = True

    def set_expire(self, key, when_ms: int):
        """Set an absolute expiry. A deadline already past is kept as is (the key then
        reads as expired); deleting it at once is the caller's call, as EXPIRE does."""
        self.expires[key] = when_ms
        heapq.heappush(self._heap, (when_ms, key))
        if len(self._heap) > 64 and len(self._heap) > 2 * len(self.expires):
            self._heap = [(w, k) for k, w in self.expires.items()]
            heapq.heapify(self._heap)
        self.modified(key)

    def persist(self, key) -> bool:
        if self.expires.pop(key, None) is None:
            return False
        self.modified(key)
        return True

    def flush(self):
        """Remove every key, breaking WATCHes on keys that existed."""
        if self.watched:
            self.touch_all_watchers()
        self.space.dirty += len(self.data)
        self.data = {}
        self.expires = {}
        self._heap = []
        self.access = {}
        self.freq = {}
        self.freq_time = {}
        self.coll_sizes = {}
        self.coll_bytes = 0
        self.stale_sizes = set()
        self.string_bytes = 0
        self._sample = None
        self.str_encodings = {}

    def _expire_now(self, key):
        self.delete(key)
        self.space.expired_keys += 1
        self.space.on_expired(self, key)

    # ---- active expiry and sampling ----------------------------------

    def active_expire(self, now: int, budget: int) -> int:
        """Delete up to `budget` keys whose deadline has passed. Returns how many."""
        heap, expires, done = self._heap, self.expires, 0
        while heap and heap[0][0] <= now and done < budget:
            when, key = heapq.heappop(heap)
            if expires.get(key) == when:
                self._expire_now(key)
                done += 1
        return done

    def sample_avg_ttl(self, now: int):
        """Redis's running estimate of the volatile keys' TTL (INFO keyspace avg_ttl):
        the mean of a few sampled deadlines, mixed in with a weight of 2%."""
        heap, expires = self._heap, self.expires
        total = samples = 0
        for _ in range(min(20, len(heap))):
            when, key = heap[random.randrange(len(heap))]
            if when > now and expires.get(key) == when:
                total += when - now
                samples += 1
        if samples:
            avg = total // samples
            if self.avg_ttl == 0:
                self.avg_ttl = avg
            self.avg_ttl = (self.avg_ttl // 50) * 49 + avg // 50

    def memory(self) -> int:
        if self.stale_sizes:
            self._refresh_sizes()
        keys = len(self.data)
        strings = keys - len(self.coll_sizes)
        # Per key: its slots in `data` and `access`, and the key object (~16 bytes of name);
        # per string: the value object; per TTL: the `expires` slot and heap entry.
        return keys * (2 * KEY_ENTRY_OVERHEAD + BYTES_OVERHEAD + 16) + strings * BYTES_OVERHEAD + self.string_bytes + self.coll_bytes + len(self.expires) * 80

    def _refresh_sizes(self):
        data, sizes = self.data, self.coll_sizes
        for key in self.stale_sizes:
            value = data.get(key)
            if value is not None and value.__class__ is not bytes and value.__class__ is not int:
                size = estimate_size(value)
                self.coll_bytes += size - sizes.get(key, 0)
                sizes[key] = size
        self.stale_sizes.clear()

    def random_keys(self, count: int, volatile: bool = False) -> list:
        """Up to `count` random live-or-expired keys (eviction and RANDOMKEY sampling).

        Python dicts offer no O(1) random pick, so a snapshot of the keys is
        kept and refreshed when it has gone stale; picks are checked against
        the live dict.
        """
        source = self.expires if volatile else self.data
        if not source:
            return []
        sample = self._sample
        if sample is None or len(sample) < len(source) // 2 or len(sample) > 2 * len(source) + 16 or random.random() < 0.001:
            sample = self._sample = list(source)
        picks = []
        for _ in range(count * 4):
            key = sample[random.randrange(len(sample))]
            if key in source:
                picks.append(key)
                if len(picks) == count:
                    break
        if not picks:
            self._sample = None
            picks = random.sample(list(source), min(count, len(source)))
        return picks


class Keyspace:
    """All databases plus the server-wide state their hooks report to."""

    def __init__(self, databases: int = 16, clock=None):
        self.clock = clock or now_ms  # unix ms, injected for simulated time
        self.dbs = [Database(self, i) for i in range(databases)]
        self.dirty = 0
        self.is_replica = False
        self.active_expire_enabled = True  # DEBUG SET-ACTIVE-EXPIRE 0 turns the background cycle off
        self.loading = False  # an AOF replays: nothing expires meanwhile (Redis's rule)
        self.lru_clock = int(self.clock() // 1000)
        self.lfu = False  # an LFU maxmemory-policy is set: accesses bump db.freq
        self.lfu_log_factor = 10
        self.lfu_decay_time = 1  # minutes per counter decrement, 0 = never decay
        self.ready_keys = []  # (db, key) pairs that blocked clients may be served from
        self.expired_keys = 0
        self.evicted_keys = 0
        self.keyspace_hits = 0
        self.keyspace_misses = 0
        # Lookups count as hits or misses only for commands that are not writes, as Redis's
        # lookupKeyWrite does not count (set per command by Node.call and Node._run_plain).
        self.count_stats = True
        # A write replaced a collection or a string of LARGE_FREE bytes or more, whose freeing
        # may take long: Node._run_plain ends a run of SETs there. Only a hint (other writes
        # set it too; a needless cut costs nothing).
        self.freed_large = False
        # Called with (db, key) when a key expires, so replication/AOF can emit a DEL.
        self.expired_listeners = []

    def on_expired(self, db, key):
        for listener in self.expired_listeners:
            listener(db, key)

    def tick(self):
        """Refresh cached clocks (once per event-loop batch)."""
        self.lru_clock = int(self.clock() // 1000)

    def lfu_minutes(self) -> int:
        """Redis's LFUGetTimeInMinutes: a 16-bit minutes clock."""
        return (self.lru_clock // 60) & 0xFFFF

    def lfu_frequency(self, db, key) -> int:
        """The key's LFU counter after decay (Redis's LFUDecrAndReturn; OBJECT FREQ)."""
        counter = db.freq.get(key)
        if counter is None:
            return 5  # LFU_INIT_VAL: a key created without a counter (a new collection)
        if self.lfu_decay_time:
            last = db.freq_time.get(key, 0)
            now = self.lfu_minutes()
            elapsed = now - last if now >= last else 65535 - last + now
            periods = elapsed // self.lfu_decay_time
            counter = 0 if periods > counter else counter - periods
        return counter

    def bump_freq(self, db, key):
        """Redis's updateLFU on access: decay, then the logarithmic increment."""
        counter = self.lfu_frequency(db, key)
        if counter < 255:
            base = counter - 5 if counter > 5 else 0
            if random.random() < 1.0 / (base * self.lfu_log_factor + 1):
                counter += 1
        db.freq[key] = counter
        db.freq_time[key] = self.lfu_minutes()

    def active_expire_cycle(self, budget_keys: int = 200) -> int:
        """One run of active expiry (Redis's activeExpireCycle): in each database,
        delete up to budget_keys keys whose deadline passed, soonest first, and
        refresh avg_ttl. A replica deletes nothing: its master's DELs do."""
        if self.is_replica or not self.active_expire_enabled or self.loading:
            return 0
        now = self.clock()
        done = 0
        for db in self.dbs:
            if db.expires:
                done += db.active_expire(now, budget_keys)
                db.sample_avg_ttl(now)
            elif db.avg_ttl:
                db.avg_ttl = 0
        return done

    def memory(self) -> int:
        return sum(db.memory() for db in self.dbs if db.data)

    def swap(self, a: int, b: int):
        """SWAPDB: exchange contents; clients keep their db index."""
        da, db_ = self.dbs[a], self.dbs[b]
        if da.watched:
            da.touch_all_watchers(db_)
        if db_.watched:
            db_.touch_all_watchers(da)
        fields = ("data", "expires", "_heap", "access", "freq", "freq_time", "coll_sizes", "coll_bytes", "stale_sizes", "string_bytes", "_sample", "str_encodings")
        for name in fields:
            va, vb = getattr(da, name), getattr(db_, name)
            setattr(da, name, vb)
            setattr(db_, name, va)
        for d in (da, db_):
            for key in d.blocking:
                if key in d.data:
                    self.ready_keys.append((d, key))
