"""triokv's Sentinel: Redis Sentinel's protocol and behaviour (sentinel.c), on trio.

Theory of operation. A sentinel is a Node serving a small command table (api.py:
SENTINEL, INFO, ROLE, PUBLISH of hellos, plus the node's PING, HELLO, AUTH, CLIENT,
SUBSCRIBE...) next to one periodic timer (core.py). Each tick, for every monitored
master, its replicas and the other sentinels:

  monitoring half   monitor.py    connections, PING, INFO, SDOWN
                    hello.py      gossip on __sentinel__:hello: sentinels, epochs, configs
                    refresh.py    what an INFO reply changes (replicas found, role changes)
  acting half       election.py   ODOWN and votes (SENTINEL IS-MASTER-DOWN-BY-ADDR)
                    failover.py   the failover state machine (fencing.py under synchronous
                                  replication; a write-safe manual failover)
                    decide.py     the pure rules all of the above consult

Replies only record what was observed; decisions read it on the next tick. Events
(events.py) go to the log and to the sentinel's own pub/sub. What is learned is saved
on every change (state_file.py) into the sentinel.conf given at start (config.py).
"""
