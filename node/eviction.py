"""maxmemory: Redis's approximated key eviction (evict.c) over our memory estimate.

Theory of operation
-------------------
Used memory is the keyspace estimate (Keyspace.memory) plus the pending output
of every client but replicas (Redis leaves replica buffers out of the count, or
evicting would feed itself). `make_room()` runs before a command that may grow
memory; while used memory is over maxmemory it deletes keys chosen by
maxmemory-policy, as Redis's performEvictions:

- LRU, LFU and volatile-ttl sample maxmemory-samples keys in every database into
  an eviction pool of the 16 best candidates seen so far (the pool outlives the
  call, so good candidates found earlier are not lost), then evict the best one
  that still exists. The score is idle seconds (LRU), 255 minus the decayed LFU
  counter (LFU), or the earliest deadline first (TTL).
- The random policies take a random key, visiting the databases in turn.
- volatile-* policies only consider keys with a TTL.

Each eviction counts in evicted_keys and is propagated as DEL (UNLINK under
lazyfree-lazy-eviction). Eviction stops after a time budget, like Redis's
eviction tenacity, and carries on at the next call (`cycle()` lets a timer do
it, as Redis's evictionTimeProc).
"""

import bisect
import time

POOL_SIZE = 16  # Redis's EVPOOL_SIZE
TIME_LIMIT = 0.005  # seconds per call; Redis's 500us at tenacity 10, scaled for Python


def time_limit(tenacity: int):
    """Seconds one call may spend evicting at this maxmemory-eviction-tenacity (Redis's
    evictionTimeLimitUs, scaled like TIME_LIMIT): linear up to 10, then 15% more per
    step, no limit (None) at 100."""
    if tenacity <= 10:
        return TIME_LIMIT * tenacity / 10
    if tenacity < 100:
        return TIME_LIMIT * 1.15 ** (tenacity - 10)
    return None
_LFU_POLICIES = ("allkeys-lfu", "volatile-lfu")


def _pool_score(entry):
    return entry[0]


class Eviction:
    def __init__(self, node):
        self.node = node
        self.pool = []  # (score, dbid, key), ascending: the best candidate is last
        self.next_db = 0  # the random policies' rotating start
        self.unfinished = False  # the last call stopped on its time budget
        self.apply_policy()
        node.config.listeners.append(self.on_config)

    # ---- configuration -------------------------------------------------

    def on_config(self, name, value):
        if name in ("maxmemory-policy", "lfu-log-factor", "lfu-decay-time"):
            self.apply_policy()
        elif name == "maxmemory" and value:
            used = self.used_memory()
            if value < used and self.node.log:
                self.node.log.warning(
                    "WARNING: the new maxmemory value set via CONFIG SET (%d) is smaller than the current memory usage (%d). "
                    "This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy." % (value, used)
                )
            self.make_room()

    def apply_policy(self):
        values = self.node.config.values
        policy = values["maxmemory-policy"]
        self.policy = policy
        self.allkeys = policy.startswith("allkeys")
        self.pool = []
        space = self.node.keyspace
        space.lfu_log_factor = values["lfu-log-factor"]
        space.lfu_decay_time = values["lfu-decay-time"]
        lfu = policy in _LFU_POLICIES
        if space.lfu and not lfu:
            # Counters left behind would keep lookups paying for LFU bumps.
            for db in space.dbs:
                db.freq = {}
                db.freq_time = {}
        space.lfu = lfu

    # ---- accounting ----------------------------------------------------

    def used_memory(self) -> int:
        """The keyspace estimate plus client output buffers, replicas' excluded."""
        buffers = 0
        for client in self.node.clients.values():
            if client.out_bytes and client.kind != "replica":
                buffers += client.out_bytes
        return self.node.keyspace.memory() + buffers

    def _may_evict(self) -> bool:
        """Redis's isSafeToPerformEvictions: replicas ignore maxmemory (their master
        evicts for them) unless replica-ignore-maxmemory is off, and a paused server
        keeps its dataset still."""
        node = self.node
        if node.role != "master" and node.config.values["replica-ignore-maxmemory"]:
            return False
        return not node.pause_until or time.time() >= node.pause_until

    # ---- eviction ------------------------------------------------------

    def make_room(self) -> bool:
        """Evict until used memory fits maxmemory. False means the write must be
        refused with OOM: noeviction, or nothing (left) to evict."""
        maxmemory = self.node.config.values["maxmemory"]
        if not maxmemory or not self._may_evict():
            return True
        used = self.used_memory()
        if used <= maxmemory:
            self.unfinished = False
            return True
        if self.policy == "noeviction":
            return False
        return self._evict_until(used - maxmemory)

    def cycle(self):
        """Carry on an eviction that ran out of its time budget (for a periodic timer)."""
        if self.unfinished:
            self.make_room()

    def _evict_until(self, to_free: int) -> bool:
        pick = self._pick_random if self.policy.endswith("random") else self._pick_pooled
        freed = evicted = 0
        limit = time_limit(self.node.config.values["maxmemory-eviction-tenacity"])
        start = time.perf_counter()
        while freed < to_free:
            picked = pick()
            if picked is None:
                return False
            db, key = picked
            before = db.memory()
            self._evict(db, key)
            freed += before - db.memory()
            evicted += 1
            if evicted % 16 == 0 and limit is not None and time.perf_counter() - start > limit:
                # Like Redis's EVICT_RUNNING: not a failure, the rest comes later.
                self.unfinished = True
                return True
        self.unfinished = False
        return True

    def _evict(self, db, key):
        node = self.node
        db.delete(key)
        node.keyspace.evicted_keys += 1
        node.stats["evicted_keys"] += 1
        verb = b"UNLINK" if node.config.values["lazyfree-lazy-eviction"] else b"DEL"
        node.emit(db.id, [verb, key])

    def _pick_random(self):
        dbs = self.node.keyspace.dbs
        for _ in range(len(dbs)):
            self.next_db = (self.next_db + 1) % len(dbs)
            db = dbs[self.next_db]
            if db.data if self.allkeys else db.expires:
                return db, db.random_keys(1, volatile=not self.allkeys)[0]
        return None

    def _pick_pooled(self):
        """Fill the pool from every database, then take its best live candidate;
        keys deleted since they were pooled are ghosts and are skipped."""
        dbs = self.node.keyspace.dbs
        allkeys = self.allkeys
        pool = self.pool
        while True:
            total = 0
            for db in dbs:
                source = db.data if allkeys else db.expires
                if source:
                    self._populate(db, source)
                    total += len(source)
            if not total:
                return None
            while pool:
                _, dbid, key = pool.pop()
                db = dbs[dbid]
                if key in (db.data if allkeys else db.expires):
                    return db, key

    def _populate(self, db, source):
        """Redis's evictionPoolPopulate: insert sampled keys by score, keeping the
        POOL_SIZE best; a key worse than all of a full pool is dropped."""
        samples = self.node.config.values["maxmemory-samples"]
        score = self._scorer(db)
        pool = self.pool
        for key in db.random_keys(samples, volatile=source is db.expires):
            s = score(key)
            k = bisect.bisect_left(pool, s, key=_pool_score)
            if len(pool) >= POOL_SIZE:
                if k == 0:
                    continue
                del pool[0]
                k -= 1
            pool.insert(k, (s, db.id, key))

    def _scorer(self, db):
        """Higher is a better candidate to evict."""
        policy = self.policy
        space = db.space
        if policy.endswith("lru"):
            now, access = space.lru_clock, db.access
            return lambda key: now - access.get(key, 0)
        if policy.endswith("lfu"):
            return lambda key: 255 - space.lfu_frequency(db, key)
        expires = db.expires
        return lambda key: -expires[key]
