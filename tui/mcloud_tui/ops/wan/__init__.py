"""WAN emulation for the local target: per-link TCP proxies with delay, jitter and partitions (no UI).

- `topology`: the address plan (which link address a process in one cloud uses to reach another) and the
  latency matrix; pure functions, also used to render RAFT_ROUTES / CP_ENDPOINTS / MINIO_ENDPOINT.
- `emulator`: the asyncio proxies. `control`: the HTTP control channel and its client (`WanControl`).
- `python -m mcloud_tui.ops.wan serve|partition|heal|status|env`: the process and its CLI.
"""

from .control import WanControl, WanError, read_state_file, summary
from .topology import (
    CLOUDS,
    DEFAULT_RTT_MS,
    LOCAL_HOSTS,
    LatencyMatrix,
    Link,
    WanConfigError,
    WanPlan,
    parse_hosts,
    parse_matrix,
)

__all__ = [
    "CLOUDS",
    "DEFAULT_RTT_MS",
    "LOCAL_HOSTS",
    "LatencyMatrix",
    "Link",
    "WanConfigError",
    "WanControl",
    "WanError",
    "WanPlan",
    "parse_hosts",
    "parse_matrix",
    "read_state_file",
    "summary",
]
