"""Persistence: RDB snapshots and the AOF, in Redis's own formats."""
