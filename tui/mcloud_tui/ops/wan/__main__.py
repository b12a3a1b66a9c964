"""`python -m mcloud_tui.ops.wan` (`mcloud-wan`): run the link emulator, or partition/heal/inspect it.

    mcloud-wan serve [--hosts aws=127.0.1.1,gcp=127.0.2.1,azure=127.0.3.1] [--rtt aws-gcp=30,...]
                     [--jitter MS] [--control 127.0.0.1:8085] [--state-file PATH]
    mcloud-wan partition CLOUD | heal [CLOUD] | status      (talk to a running emulator)
    mcloud-wan env CLOUD [--hosts ...]                      (RAFT_ROUTES, CP_ENDPOINTS, MINIO_ENDPOINT)

Bad input ends with one line naming the bad thing and exit status 2; an unreachable emulator with 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from pathlib import Path

from .control import WanControl, WanError, serve_control, write_state
from .emulator import Emulator
from .topology import CLOUDS, DEFAULT_JITTER_MS, WanConfigError, WanPlan, parse_hosts, parse_matrix

DEFAULT_CONTROL = "127.0.0.1:8085"


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="mcloud-wan", description="WAN link emulator for the local target")
    ap.add_argument(
        "--control",
        default=os.environ.get("MCLOUD_WAN_CONTROL", DEFAULT_CONTROL),
        help="control endpoint host:port (env MCLOUD_WAN_CONTROL)",
    )
    sub = ap.add_subparsers(dest="cmd", required=True)
    serve = sub.add_parser("serve", help="run the emulator until SIGTERM")
    for p in (serve, sub.add_parser("env", help="print the env a cloud's processes need")):
        p.add_argument("--hosts", default="aws=127.0.1.1,gcp=127.0.2.1,azure=127.0.3.1")
        p.add_argument("--raft-port", type=int, default=7000)
        p.add_argument("--grpc-port", type=int, default=50051)
        p.add_argument("--s3-port", type=int, default=9000)
        p.add_argument("--storage-cloud", default="aws")
    serve.add_argument("--rtt", default="", help="RTT ms per pair, e.g. aws-gcp=30,aws-azure=10,gcp-azure=35")
    serve.add_argument("--jitter", type=float, default=DEFAULT_JITTER_MS, help="± ms on each one-way delay")
    serve.add_argument("--state-file", default="", help="JSON state, rewritten on every change")
    serve.add_argument("--partitioned", default="", help="clouds cut off from the start (comma list)")
    serve.add_argument("--seed", type=int, default=None)
    sub.choices["env"].add_argument("cloud", choices=CLOUDS)
    sub.add_parser("partition", help="cut a cloud off").add_argument("cloud", choices=CLOUDS)
    sub.add_parser("heal", help="reconnect a cloud (all when none given)").add_argument(
        "cloud", nargs="?", choices=CLOUDS
    )
    sub.add_parser("status", help="print the emulator's state as JSON")
    for p in sub.choices.values():  # also accepted after the command
        p.add_argument("--control", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return ap


def _plan(args: argparse.Namespace) -> WanPlan:
    return WanPlan(
        hosts=parse_hosts(args.hosts),
        raft_port=args.raft_port,
        grpc_port=args.grpc_port,
        s3_port=args.s3_port,
        storage_cloud=args.storage_cloud,
    )


async def _serve(args: argparse.Namespace) -> None:
    plan = _plan(args)
    matrix = parse_matrix(args.rtt, args.jitter)
    state_file = Path(args.state_file) if args.state_file else None
    emu = Emulator(plan, matrix, seed=args.seed)
    emu._on_change = lambda: write_state(emu, state_file)
    for cloud in (c.strip() for c in args.partitioned.split(",") if c.strip()):
        if cloud not in CLOUDS:
            raise WanConfigError(f"--partitioned: unknown cloud {cloud!r}")
        emu.partitioned.add(cloud)
    host, _, port = args.control.rpartition(":")
    if not host or not port.isdigit():
        raise WanConfigError(f"--control: expected host:port, got {args.control!r}")
    await emu.start()
    control = await serve_control(emu, host, int(port))
    write_state(emu, state_file)
    print(
        f"wan: ready: {len(emu.links)} links, RTT ms {matrix.as_dict()}, jitter ±{matrix.jitter_ms:g} ms, "
        f"control http://{args.control}",
        file=sys.stderr,
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    control.close()
    await emu.close()
    if state_file is not None:
        state_file.unlink(missing_ok=True)  # a stale file would make a console show a WAN that is gone


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    try:
        if args.cmd == "serve":
            asyncio.run(_serve(args))
            return 0
        if args.cmd == "env":
            plan = _plan(args)
            print(f"RAFT_ROUTES={plan.raft_routes(args.cloud)}")
            print(f"CP_ENDPOINTS={plan.cp_endpoints(args.cloud)}")
            print(f"MINIO_ENDPOINT={plan.minio_endpoint(args.cloud)}")
            return 0
        ctl = WanControl(args.control)
        if args.cmd == "partition":
            state = ctl.partition(args.cloud)
        elif args.cmd == "heal":
            state = ctl.heal(args.cloud)
        else:
            state = ctl.state()
        if args.cmd == "status":
            print(json.dumps(state, indent=2))
        else:
            print(f"partitioned: {', '.join(state['partitioned']) or 'none'}")
        return 0
    except WanConfigError as exc:
        print(f"mcloud-wan: {exc}", file=sys.stderr)
        return 2
    except (WanError, OSError) as exc:
        print(f"mcloud-wan: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
