"""triokv node: a Redis 7 compatible server on trio."""

__version__ = "0.1.0"
