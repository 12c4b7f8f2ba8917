"""ODOWN and the leader election, over SENTINEL IS-MASTER-DOWN-BY-ADDR.

While a master is SDOWN here, every ask-period each other sentinel is asked
`SENTINEL IS-MASTER-DOWN-BY-ADDR ip port current-epoch *`; its reply sets or
clears its MASTER_DOWN flag, which ODOWN counts. Once a failover is under way
the last argument is our run id instead of `*`: the question becomes a vote
request, and the reply carries the sentinel's vote for that epoch. Answers
older than five ask periods are forgotten.
"""

from . import decide, monitor
from .events import WARNING, announced
from .instances import MASTER_DOWN, O_DOWN, STATE_NONE, S_DOWN


def check_objectively_down(s, master):
    """Set or clear ODOWN from the agreeing sentinels (sentinelCheckObjectivelyDown)."""
    if decide.is_odown(master):
        if not master.flags & O_DOWN:
            s.event(WARNING, "+odown", master, "%@ #quorum %d/%d", decide.odown_votes(master), master.quorum)
            master.flags |= O_DOWN
            master.o_down_since_time = s.now()
    elif master.flags & O_DOWN:
        s.event(WARNING, "-odown", master, "%@")
        master.flags &= ~O_DOWN


def ask_master_state(s, master, forced: bool):
    """Ask the other sentinels about a master we see down (and for their vote once we
    started a failover), at most once per ask-period unless forced."""
    now = s.now()
    settings = s.settings
    for ri in list(master.sentinels.values()):
        if now - ri.last_master_down_reply_time > settings.ask_period * 5:
            ri.flags &= ~MASTER_DOWN
            ri.leader = None
        if not master.flags & S_DOWN or ri.link.disconnected:
            continue
        if not forced and now - ri.last_master_down_reply_time < settings.ask_period:
            continue
        runid = settings.myid if master.failover_state > STATE_NONE else "*"
        args = ["SENTINEL", "is-master-down-by-addr", announced(master.addr, settings), str(master.addr.port), str(settings.current_epoch), runid]
        monitor.send(ri, args, lambda reply, ri=ri: on_is_master_down_reply(s, ri, reply))


def on_is_master_down_reply(s, ri, reply):
    """[down 0|1, leader runid or *, leader epoch]: anything else is ignored (the flag then
    times out)."""
    if not (isinstance(reply, list) and len(reply) == 3 and isinstance(reply[0], int) and isinstance(reply[1], bytes) and isinstance(reply[2], int)):
        return
    ri.last_master_down_reply_time = s.now()
    if reply[0] == 1:
        ri.flags |= MASTER_DOWN
    else:
        ri.flags &= ~MASTER_DOWN
    leader = reply[1].decode("utf-8", "replace")
    if leader != "*":
        if ri.leader_epoch != reply[2] and s.log is not None:
            s.log.warning("%s voted for %s %d" % (ri.name, leader, reply[2]))
        ri.leader = leader
        ri.leader_epoch = reply[2]


def vote_leader(s, master, req_epoch: int, req_runid: str):
    """Vote for `req_runid` as leader of `req_epoch` unless we already voted in that epoch
    (sentinelVoteLeader). Returns (our leader for the master, its epoch)."""
    settings = s.settings
    if req_epoch > settings.current_epoch:
        settings.current_epoch = req_epoch
        s.flush_config()
        s.event(WARNING, "+new-epoch", master, "%d", settings.current_epoch)
    if decide.may_vote(master.leader_epoch, settings.current_epoch, req_epoch):
        master.leader = req_runid
        master.leader_epoch = settings.current_epoch
        s.flush_config()
        s.event(WARNING, "+vote-for-leader", master, "%s %d", master.leader, master.leader_epoch)
        # Having voted for another, wait before trying a failover of our own.
        if master.leader.lower() != settings.myid.lower():
            master.failover_start_time = s.now() + s.rng.randrange(1000)
    return master.leader, master.leader_epoch


def get_leader(s, master, epoch: int):
    """The elected leader for `epoch`, or None. Our own vote goes to the most voted sentinel,
    or to ourselves when nobody got a vote yet (sentinelGetLeader)."""
    counts = decide.count_votes(master, s.settings.current_epoch)
    candidate = decide.most_voted(counts) or s.settings.myid
    myvote, leader_epoch = vote_leader(s, master, epoch, candidate)
    if myvote is not None and leader_epoch == epoch:
        counts[myvote] = counts.get(myvote, 0) + 1
    voters = len(master.sentinels) + 1
    return decide.elected(counts, voters, master.quorum)
