"""``mcloud-tui``: the console, or with ``--headless CMD`` the same operations printed line by line.

    mcloud-tui [--target local|cloud] [--budget USD [--auto-teardown]]   # Textual console
    mcloud-tui --headless up|smoke|down|status [--target local|cloud] [--yes] [--verbose]
    mcloud-tui --headless partition --cloud aws|gcp|azure      # local target, WAN emulator on
    mcloud-tui --headless heal [--cloud aws|gcp|azure]         # every cloud when --cloud is not given

Headless exit status: 0 success, 1 the operation failed, 2 bad usage / configuration, 130 interrupted.
Ctrl-C cancels cleanly (Terraform is asked to stop and keeps its state); run ``down`` afterwards.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence

HEADLESS_COMMANDS = ("up", "smoke", "down", "status", "partition", "heal")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mcloud-tui", description="mcloud operations console")
    p.add_argument(
        "--headless",
        choices=HEADLESS_COMMANDS,
        metavar="CMD",
        help=f"run one operation without the UI: {', '.join(HEADLESS_COMMANDS)}",
    )
    p.add_argument(
        "--target", choices=("local", "cloud"), default="local", help="deployment target (default local)"
    )
    p.add_argument(
        "--cloud", choices=("aws", "gcp", "azure"), help="partition/heal: the cloud to cut off / reconnect"
    )
    p.add_argument("--yes", action="store_true", help="cloud up: apply without asking to confirm the plan")
    p.add_argument("--verbose", "-v", action="store_true", help="headless: also print debug lines")
    p.add_argument("--budget", type=float, metavar="USD", help="console: warn at 80%% of this spend")
    p.add_argument("--auto-teardown", action="store_true", help="console: tear down when --budget is reached")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.headless in ("partition", "heal"):
        return wan_command(args.headless, args.target, args.cloud)
    if args.headless:
        return headless(args.headless, args.target, yes=args.yes, verbose=args.verbose)
    try:
        from mcloud_tui.app import run_app
    except ImportError as exc:
        print(f"mcloud-tui: the console is not available ({exc}); try --headless", file=sys.stderr)
        return 2
    result = run_app(target=args.target, budget=args.budget, auto_teardown=args.auto_teardown)
    return int(result) if isinstance(result, int) else 0


def headless(command: str, target: str, *, yes: bool = False, verbose: bool = False) -> int:
    """Run one operation, print every event as one line, return the exit status."""
    from mcloud_tui.ops.config import ConfigError
    from mcloud_tui.ops.events import Event, HostLog, ResourceProgress, format_event

    lock = threading.Lock()

    def sink(event: Event) -> None:
        if not verbose and (
            (isinstance(event, HostLog) and event.level == "debug") or isinstance(event, ResourceProgress)
        ):
            return  # ResourceProgress repeats the terraform line already printed
        line = format_event(event)
        with lock:
            print(line, flush=True)

    def confirm(summary) -> bool:  # noqa: ANN001 - mcloud_tui.ops.core.PlanSummary (imported lazily)
        changes = summary.changes
        if target != "cloud" or yes:
            return True
        if not sys.stdin.isatty():
            print("mcloud-tui: cloud up needs --yes when stdin is not a terminal", file=sys.stderr)
            return False
        answer = input(
            f"apply {changes.get('add', 0)} add / {changes.get('change', 0)} change / "
            f"{changes.get('remove', 0)} destroy? [y/N] "
        )
        return answer.strip().lower() in ("y", "yes")

    try:
        from mcloud_tui.ops.core import Ops

        ops = Ops(target, sink, confirm_plan=confirm)
    except ConfigError as exc:
        print(f"mcloud-tui: {exc}", file=sys.stderr)
        return 2

    result: dict[str, bool] = {}
    done = threading.Event()

    def run() -> None:
        try:
            result["ok"] = bool(getattr(ops, command)())
        finally:
            done.set()

    # Wait on an Event, not Thread.join: a KeyboardInterrupt inside join() can leave the thread marked
    # finished while it still runs, and the interpreter would then exit under it (orphaning children).
    worker = threading.Thread(target=run, name="mcloud-ops", daemon=False)
    worker.start()
    interrupted = 0
    while not done.is_set():
        try:
            done.wait(0.2)
        except KeyboardInterrupt:
            interrupted += 1
            ops.cancel()
            with lock:
                print(
                    "^C: cancelling (waiting for terraform/ansible to stop; Ctrl-C 3x to abandon)", flush=True
                )
            if interrupted >= 3:
                return 130
    worker.join()
    if interrupted:
        return 130
    return 0 if result.get("ok") else 1


def wan_command(command: str, target: str, cloud: str | None) -> int:
    """partition/heal through the local deployment's WAN emulator: one line on stdout, or one on stderr
    (exit 2: no emulator to talk to / bad usage, 1: the emulator did not answer or refused)."""
    from mcloud_tui.ops.config import ConfigError
    from mcloud_tui.ops.core import Ops
    from mcloud_tui.ops.localwan import WanError, WanUnavailable

    if command == "partition" and not cloud:
        print("mcloud-tui: partition needs --cloud aws|gcp|azure", file=sys.stderr)
        return 2
    try:
        ops = Ops(target)
        if command == "partition":
            assert cloud is not None
            st = ops.partition(cloud)
            others = ", ".join(c for c in ("aws", "gcp", "azure") if c != cloud)
            print(f"wan: partitioned {cloud}: its links to {others} are cut; partitioned now: "
                  f"{', '.join(st.partitioned) or 'none'}")  # fmt: skip
        else:
            st = ops.heal(cloud)
            print(
                f"wan: healed {cloud or 'every cloud'}; partitioned now: {', '.join(st.partitioned) or 'none'}"
            )
    except (ConfigError, WanUnavailable) as exc:
        print(f"mcloud-tui: {command}: {exc}", file=sys.stderr)
        return 2
    except WanError as exc:
        print(f"mcloud-tui: {command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
