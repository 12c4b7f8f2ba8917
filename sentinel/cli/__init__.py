"""The `triokv` operator CLI: a local cluster, its status, its events, failovers and fault drills.

Every command talks to the cluster as users do: redis-py against the sentinels and nodes, and
processes started detached with pid files under the cluster's directory. A failure the user can
act on is raised as CliError and printed as one line, exit status 1.
"""


class CliError(Exception):
    """A failure the user can act on: printed as one line by __main__, exit status 1."""
