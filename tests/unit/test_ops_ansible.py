"""ansible-runner events -> HostLog lines on the host each task result concerns."""

from __future__ import annotations

from mcloud_tui.ops.ansible import events_from_runner


def ev(kind: str, host: str | None = None, **data) -> dict:
    return {"event": kind, "event_data": {"host": host, **data}}


def test_task_results_land_on_their_host() -> None:
    (line,) = events_from_runner(ev("runner_on_ok", "gcp", task="Render env", res={"changed": True}))
    assert (line.host, line.line) == ("gcp", "changed: Render env")
    (line,) = events_from_runner(ev("runner_on_ok", "aws", task="Wait", res={"changed": False}))
    assert line.line == "ok: Wait"
    (line,) = events_from_runner(ev("playbook_on_task_start", task="Start the services"))
    assert line.host is None and line.level == "debug"


def test_failure_shows_the_service_log_tail_under_the_host() -> None:
    res = {
        "msg": "non-zero return code",
        "stderr": "worker exited during start; last lines of its log:\nTraceback\nValueError: CP_ENDPOINTS",
    }
    lines = events_from_runner(ev("runner_item_on_failed", "azure", task="Wait", res=res))
    assert all(x.host == "azure" and x.level == "error" for x in lines)
    text = [x.line for x in lines]
    assert text[0] == "failed: Wait" and "  ValueError: CP_ENDPOINTS" in text


def test_loop_summary_is_not_repeated_and_ignored_errors_are_warnings() -> None:
    assert (
        events_from_runner(ev("runner_on_ok", "aws", task="Start", res={"changed": True, "results": [{}]}))
        == []
    )
    lines = events_from_runner(ev("runner_on_failed", "gcp", task="x", ignore_errors=True, res={"msg": "m"}))
    assert lines[0].level == "warning"


def test_recap_per_host() -> None:
    data = {"ok": {"aws": 5, "gcp": 4}, "changed": {"aws": 2}, "failures": {"gcp": 1}, "dark": {}}
    lines = events_from_runner({"event": "playbook_on_stats", "event_data": data})
    by_host = {x.host: x.line for x in lines}
    assert "changed=2" in by_host["aws"] and "failed=1" in by_host["gcp"]
