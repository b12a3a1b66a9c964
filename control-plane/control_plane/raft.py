"""The Raft side of a node: PySyncObj configured per DESIGN.md, and an asyncio bridge to propose commands.

PySyncObj applies committed commands on its own tick thread. `ReplicatedJobs` is the only consumer: it
forwards each command to the pure `JobStore` under a lock (gRPC handlers read the store from the event
loop thread) and tells a listener which jobs changed, so WatchJobs can stream them. Attributes set before
`SyncObjConsumer.__init__` are not part of snapshots: the lock and the listener live there.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pysyncobj import FAIL_REASON, SyncObj, SyncObjConf, SyncObjConsumer, replicated
from pysyncobj.dns_resolver import globalDnsResolver
from pysyncobj.node import TCPNode

from .config import NodeConfig
from .state import Job, JobStore

log = logging.getLogger(__name__)

ROLE_NAMES = {0: "follower", 1: "candidate", 2: "leader"}
#: how many group-commit batches may await their commit at once (more arrive as one larger entry)
MAX_BATCHES_IN_FLIGHT = 2
#: a batch whose answer never came is failed after this long (its callers retry with their request ids)
BATCH_ANSWER_TIMEOUT = 10.0

_FAIL_TEXT = {
    FAIL_REASON.QUEUE_FULL: "the Raft command queue is full",
    FAIL_REASON.MISSING_LEADER: "no Raft leader (the cluster has no quorum right now)",
    FAIL_REASON.DISCARDED: "the command was discarded by a new leader",
    FAIL_REASON.NOT_LEADER: "this node stopped being leader",
    FAIL_REASON.LEADER_CHANGED: "the Raft leader changed",
    FAIL_REASON.REQUEST_DENIED: "the request was denied",
}


class ProposalFailed(Exception):
    """A command was not confirmed. It may still commit: callers retry with the same request id."""


#: the store methods a command may name (everything else is refused, even from a peer)
COMMANDS = frozenset({"submit", "lease", "renew", "complete", "cancel", "expire"})


def _changed(method: str, args: tuple[Any, ...], result: Any) -> list[str]:
    """The job ids a command changed, for WatchJobs and long-polling leases."""
    if method == "submit":
        return [result.id]
    if method == "lease":
        return [g.job_id for g in result]
    if method == "complete":
        return [args[2]]
    if method == "cancel":
        return [result.id] if result else []
    if method == "expire":
        return list(result)
    return []


class ReplicatedJobs(SyncObjConsumer):
    """The one PySyncObj consumer. Commands arrive in batches (group commit): one Raft entry carries every
    command proposed during one event-loop turn, so Raft cost stays flat as request rates grow."""

    def __init__(self) -> None:
        # not snapshotted (set before the base __init__ records the excluded attribute names)
        self._lock = threading.RLock()
        self._listener: Callable[[list[Job]], None] | None = None
        super().__init__()
        self.store = JobStore()

    @replicated
    def batch(self, commands: tuple[tuple[str, tuple[Any, ...]], ...]) -> list[Any]:
        results: list[Any] = []
        changed: list[str] = []
        with self._lock:
            for method, args in commands:
                if method not in COMMANDS:
                    results.append(None)
                    continue
                result = getattr(self.store, method)(*args)
                results.append(result)
                changed.extend(_changed(method, args, result))
            if self._listener and changed:
                jobs = self.store.jobs
                self._listener([jobs[j].copy() for j in dict.fromkeys(changed) if j in jobs])
        return results


class RoutedNode(TCPNode):
    """A peer known by its own address (identity, /health) but reached through another one.

    The local target's WAN emulator puts a delaying proxy between every pair of clouds; PySyncObj opens its
    connections with `connect(node.ip, node.port)`, so only those two properties change.
    """

    def __init__(self, address: str, connect: str) -> None:
        super().__init__(address)
        host, port = connect.rsplit(":", 1)
        self._connect_host = host
        self._connect_port = int(port)

    @property
    def ip(self) -> str | None:  # type: ignore[override]
        return globalDnsResolver().resolve(self._connect_host)

    @property
    def port(self) -> int:  # type: ignore[override]
        return self._connect_port


@dataclass(frozen=True)
class RaftStatus:
    role: str
    leader: str
    term: int
    commit_index: int
    last_applied: int
    has_quorum: bool
    peers: dict[str, bool]


def make_conf(cfg: NodeConfig) -> SyncObjConf:
    """PySyncObj settings for WAN links of 10-70 ms RTT (see NOTES.md for why each one)."""
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    return SyncObjConf(
        bindAddress=cfg.raft_listen,
        password=cfg.raft_password,
        useFork=False,
        dynamicMembershipChange=False,
        commandsWaitLeader=False,
        journalFile=str(cfg.data_dir / "raft.journal"),
        fullDumpFile=str(cfg.data_dir / "raft.dump"),
        raftMinTimeout=cfg.election_min,
        raftMaxTimeout=cfg.election_max,
        appendEntriesPeriod=cfg.heartbeat,
        leaderFallbackTimeout=cfg.leader_fallback,
        appendEntriesUseBatch=False,
        connectionRetryTime=0.5,
        connectionTimeout=max(1.0, cfg.leader_fallback),
        logCompactionMinEntries=100_000,
        logCompactionMinTime=600,
        commandsQueueSize=200_000,
    )


class RaftNode:
    """One member of the Raft group, plus `propose()` for asyncio code."""

    def __init__(self, cfg: NodeConfig) -> None:
        self.cfg = cfg
        self.jobs = ReplicatedJobs()
        peers = [RoutedNode(p, cfg.raft_routes[p]) if p in cfg.raft_routes else p for p in cfg.raft_peers]
        self.sync = SyncObj(cfg.raft_self, peers, conf=make_conf(cfg), consumers=[self.jobs])
        self._leader_since: float | None = None
        self._outbox: list[tuple[str, tuple[Any, ...], asyncio.Future[Any]]] = []
        self._flush_scheduled = False
        self._batches_in_flight = 0

    def set_listener(self, listener: Callable[[list[Job]], None] | None) -> None:
        self.jobs._listener = listener

    async def propose(self, method: str, *args: Any, timeout: float = 5.0) -> Any:
        """Propose a command and wait until it is applied locally; ProposalFailed otherwise.

        Group commit: while MAX_BATCHES_IN_FLIGHT batches await their commit, new commands wait in the
        outbox and leave together as the next Raft entry. An idle node sends a command at once; a busy one
        sends fewer, larger entries (each one costs an encrypted message per follower on PySyncObj's tick
        thread, which shares the GIL with the gRPC loop).
        """
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self._outbox.append((method, args, fut))
        if not self._flush_scheduled and self._batches_in_flight < MAX_BATCHES_IN_FLIGHT:
            self._flush_scheduled = True
            loop.call_soon(self._flush, loop)
        try:
            async with asyncio.timeout(timeout):  # unlike wait_for, no extra task per proposal
                return await fut
        except TimeoutError:
            raise ProposalFailed("timed out waiting for the Raft commit") from None

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        self._flush_scheduled = False
        outbox, self._outbox = self._outbox, []
        if not outbox:
            return
        futures = [fut for _, _, fut in outbox]
        commands = tuple((method, args) for method, args, _ in outbox)
        self._batches_in_flight += 1
        settled = False

        def finish(results: Any, error: int) -> None:  # on the loop, exactly once per batch
            nonlocal settled
            if settled:
                return
            settled = True
            guard.cancel()
            self._batches_in_flight -= 1
            _settle_all(futures, results, error)
            if self._outbox and not self._flush_scheduled:
                self._flush_scheduled = True
                loop.call_soon(self._flush, loop)

        def done(results: Any, error: int) -> None:  # on PySyncObj's tick thread
            loop.call_soon_threadsafe(finish, results, error)

        # PySyncObj always answers a command, but never let a lost answer stall the outbox
        guard = loop.call_later(BATCH_ANSWER_TIMEOUT, finish, None, FAIL_REASON.DISCARDED)
        self.jobs.batch(commands, callback=done)

    def read(self, fn: Callable[[JobStore], Any]) -> Any:
        """Run a read against the local store under the apply lock."""
        with self.jobs._lock:
            return fn(self.jobs.store)

    def status(self) -> RaftStatus:
        st = self.sync.getStatus()
        peers = {
            key.removeprefix("partner_node_status_server_"): value == 2
            for key, value in st.items()
            if key.startswith("partner_node_status_server_")
        }
        leader = st.get("leader")
        role = ROLE_NAMES.get(st.get("state", 0), "follower")
        if role == "leader":
            if self._leader_since is None:
                self._leader_since = time.monotonic()
        else:
            self._leader_since = None
        return RaftStatus(
            role=role,
            leader=leader.id if leader is not None and hasattr(leader, "id") else str(leader or ""),
            term=int(st.get("raft_term", 0)),
            commit_index=int(st.get("commit_idx", 0)),
            last_applied=int(st.get("last_applied", 0)),
            has_quorum=bool(st.get("has_quorum", False)),
            peers=peers,
        )

    def leader_for(self) -> float:
        """Seconds this node has been leader (0 when it is not)."""
        self.status()
        return 0.0 if self._leader_since is None else time.monotonic() - self._leader_since

    def close(self) -> None:
        self.sync.destroy()


def _settle_all(futures: list[asyncio.Future[Any]], results: Any, error: int) -> None:
    for i, fut in enumerate(futures):
        if fut.done():
            continue
        if error == FAIL_REASON.SUCCESS:
            fut.set_result(results[i])
        else:
            fut.set_exception(ProposalFailed(_FAIL_TEXT.get(error, f"Raft failure {error}")))
