"""The link emulator: per-link TCP proxies that delay, jitter and cut cross-cloud traffic (asyncio).

The kernel here has no netem, so latency is added in user space. Each accepted connection gets two pumps
(one per direction). A pump timestamps every chunk it reads and the writer releases it at
``arrival + one_way_delay ± jitter``, never before the previous chunk of the same direction: bytes keep
their order and a burst is not serialised behind one delay per chunk (a delay *queue*, not a sleep per
read). A partition of a cloud closes the listeners of every link that touches it (new connections are
refused) and aborts the connections open on them; healing listens again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .topology import CLOUDS, LatencyMatrix, Link, WanPlan

log = logging.getLogger("mcloud.wan")

CHUNK = 256 * 1024
_FAILED = object()  # queued when the read side fails
QUEUE_CHUNKS = 256  # per direction; a full queue stops reading (TCP backpressure to the sender)


@dataclass
class LinkStats:
    connections: int = 0  # open now
    accepted: int = 0
    refused: int = 0  # connections cut by a partition
    bytes: int = 0


@dataclass(eq=False)  # identity-hashed: kept in a set per link
class _Conn:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def abort(self) -> None:
        for w in (self.client, self.upstream):
            if w is not None:
                with contextlib.suppress(Exception):
                    w.transport.abort()
        for t in self.tasks:
            t.cancel()


class Emulator:
    """All links of one plan in one event loop; `partition`/`heal`/`set_matrix` change them live."""

    def __init__(
        self,
        plan: WanPlan,
        matrix: LatencyMatrix | None = None,
        *,
        seed: int | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.plan = plan
        self.matrix = matrix or LatencyMatrix()
        self.partitioned: set[str] = set()
        self.links = plan.links()
        self.stats: dict[Link, LinkStats] = {link: LinkStats() for link in self.links}
        self._servers: dict[Link, asyncio.Server] = {}
        self._conns: dict[Link, set[_Conn]] = {link: set() for link in self.links}
        self._rng = random.Random(seed)
        self._on_change = on_change
        self.started_at = time.time()

    # ---- lifecycle -------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Listen on every link that is not cut; raises OSError naming the address that is taken."""
        for link in self.links:
            if not self._is_cut(link):
                await self._listen(link)

    async def close(self) -> None:
        for link in list(self._servers):
            await self._unlisten(link)
        for link in self.links:
            self._cut_connections(link)

    async def _listen(self, link: Link) -> None:
        if link in self._servers:
            return
        try:
            server = await asyncio.start_server(
                lambda r, w, link=link: self._accept(link, r, w),
                link.listen_host,
                link.port,
                reuse_address=True,
                limit=CHUNK,
            )
        except OSError as exc:
            raise OSError(
                exc.errno,
                f"WAN link {link.src}->{link.dst} ({link.service}): cannot listen on "
                f"{link.listen}: {exc.strerror}",
            ) from None
        self._servers[link] = server

    async def _unlisten(self, link: Link) -> None:
        server = self._servers.pop(link, None)
        if server is not None:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 0.5)

    # ---- control ---------------------------------------------------------------------------------------
    def _is_cut(self, link: Link) -> bool:
        return link.src in self.partitioned or link.dst in self.partitioned

    async def partition(self, cloud: str) -> None:
        """Cut `cloud` off: refuse new connections on its links (both directions), abort open ones."""
        if cloud not in CLOUDS:
            raise ValueError(f"unknown cloud {cloud!r} (expected one of {', '.join(CLOUDS)})")
        self.partitioned.add(cloud)
        for link in self.links:
            if self._is_cut(link):
                await self._unlisten(link)
                self._cut_connections(link)
        log.warning("wan: %s partitioned", cloud)
        self._changed()

    async def heal(self, cloud: str | None = None) -> None:
        """Reconnect `cloud` (every cloud when None)."""
        if cloud is not None and cloud not in CLOUDS:
            raise ValueError(f"unknown cloud {cloud!r} (expected one of {', '.join(CLOUDS)})")
        if cloud is None:
            self.partitioned.clear()
        else:
            self.partitioned.discard(cloud)
        for link in self.links:
            if not self._is_cut(link):
                await self._listen(link)
        log.warning("wan: healed %s", cloud or "every cloud")
        self._changed()

    def set_matrix(self, matrix: LatencyMatrix) -> None:
        """New delays apply to the next chunk on every connection."""
        self.matrix = matrix
        self._changed()

    def _changed(self) -> None:
        if self._on_change is not None:
            try:
                self._on_change()
            except Exception:  # a broken observer must not break the emulator
                log.exception("wan: state observer failed")

    def _cut_connections(self, link: Link) -> None:
        for conn in list(self._conns[link]):
            conn.abort()
            self.stats[link].refused += 1
        self._conns[link].clear()

    def state(self) -> dict:
        """JSON-friendly state for the control channel and the console header."""
        return {
            "enabled": True,
            "clouds": dict(self.plan.hosts),
            "rtt_ms": self.matrix.as_dict(),
            "jitter_ms": self.matrix.jitter_ms,
            "partitioned": sorted(self.partitioned, key=CLOUDS.index),
            "started_at": self.started_at,
            "links": [
                {
                    "src": link.src,
                    "dst": link.dst,
                    "service": link.service,
                    "listen": link.listen,
                    "target": link.target,
                    "up": link in self._servers,
                    "one_way_ms": self.matrix.one_way(link.src, link.dst),
                    "connections": len(self._conns[link]),
                    "accepted": self.stats[link].accepted,
                    "cut": self.stats[link].refused,
                    "bytes": self.stats[link].bytes,
                }
                for link in self.links
            ],
        }

    # ---- data path -------------------------------------------------------------------------------------
    def _delay_s(self, link: Link) -> float:
        base = self.matrix.one_way(link.src, link.dst)
        jitter = self.matrix.jitter_ms
        ms = base + (self._rng.uniform(-jitter, jitter) if jitter and base else 0.0)
        return max(0.0, ms) / 1000.0

    async def _accept(self, link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._is_cut(link):  # raced with a partition
            writer.transport.abort()
            return
        conn = _Conn(writer)
        self._conns[link].add(conn)
        st = self.stats[link]
        st.accepted += 1
        st.connections += 1
        _nodelay(writer)
        try:
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection(link.target_host, link.port, limit=CHUNK), 5.0
                )
            except (OSError, TimeoutError):
                return  # the destination is down: the client sees its connection closed
            conn.upstream = up_writer
            _nodelay(up_writer)
            if self._is_cut(link):
                return
            conn.tasks = [
                asyncio.create_task(self._pump(link, reader, up_writer)),
                asyncio.create_task(self._pump(link, up_reader, writer)),
            ]
            await asyncio.gather(*conn.tasks)
        except (OSError, ConnectionError, asyncio.CancelledError):
            pass  # one side failed or the link was cut: drop both sides
        finally:
            st.connections -= 1
            self._conns[link].discard(conn)
            if any(not t.done() for t in conn.tasks):
                conn.abort()
            for w in (writer, conn.upstream):
                if w is not None:
                    with contextlib.suppress(Exception):
                        w.close()

    async def _pump(self, link: Link, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy one direction with the link's delay; EOF is forwarded as a half-close, in order.

        A reset on either side raises ConnectionError, which drops the whole connection (both directions),
        as a router that lost the flow would.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[float, bytes | None | object]] = asyncio.Queue(QUEUE_CHUNKS)
        stats = self.stats[link]

        async def read() -> None:
            last = 0.0
            try:
                while True:
                    data = await reader.read(CHUNK)
                    release = max(loop.time() + self._delay_s(link), last)
                    last = release
                    await queue.put((release, data if data else None))
                    if not data:
                        return
            except OSError:
                await queue.put((0.0, _FAILED))

        reading = asyncio.create_task(read())
        try:
            while True:
                release, data = await queue.get()
                if data is _FAILED:
                    raise ConnectionError("peer reset")
                wait = release - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if data is None:
                    with contextlib.suppress(OSError, RuntimeError):
                        if writer.can_write_eof():
                            writer.write_eof()
                    return
                assert isinstance(data, bytes)
                writer.write(data)
                stats.bytes += len(data)
                if writer.transport.get_write_buffer_size() > CHUNK:
                    await writer.drain()
        finally:
            reading.cancel()


def _nodelay(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
