"""A sentinel process's parts, wired: the Sentinel, a Node serving the sentinel's commands
(PING, SENTINEL, SUBSCRIBE, INFO, ... over node.server, so RESP3, AUTH, CLIENT and pub/sub
work as on a node), and the Server that runs both.

Events are published through the node's pub/sub; the node finds the sentinel as
`node.sentinel`. The clock, the stream opener and the random source are passed through,
so simulations build sentinels the same way.
"""

from node.commands.pubsub import publish_message
from node.core import Node
from node.server import Server

from . import api
from .core import Sentinel


def build(config, clock=None, open_stream=None, rng=None, log=None, store=None):
    """(sentinel, node, server) for a loaded sentinel.config.SentinelConfig; the sentinel
    still needs its `sentinel ...` lines applied (sentinel.config.apply_statements)."""
    sentinel = Sentinel(clock=clock, open_stream=open_stream, rng=rng, log=log, store=store)
    sentinel.port = config.node_config["port"]
    node = Node(config.node_config, clock=clock, log=log, open_stream=open_stream, commands=api.build_table())
    node.sentinel = sentinel
    node.replication.run = None  # a sentinel replicates nothing
    sentinel.events.publish = lambda channel, message: publish_message(node, channel, message)
    server = Server(node, log)
    server.background.append(sentinel.run)
    return sentinel, node, server
