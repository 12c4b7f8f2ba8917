"""Command families. Importing this package registers every command in the table."""

import importlib

FAMILIES = ["strings", "keys", "lists", "hashes", "sets", "zsets", "connection", "server", "introspection", "pubsub", "transactions", "persistence", "replication", "lcs", "memory", "sort"]

for _family in FAMILIES:
    try:
        importlib.import_module("%s.%s" % (__name__, _family))
    except ModuleNotFoundError as e:
        # A family still being written must not stop the others from loading.
        if e.name != "%s.%s" % (__name__, _family):
            raise
