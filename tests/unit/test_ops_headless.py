"""The headless front end: exit codes and one clear line for bad usage (no processes spawned)."""

from __future__ import annotations

import pytest

from mcloud_tui.__main__ import main


def test_partition_and_heal_are_not_built_yet(capsys) -> None:
    assert main(["--headless", "partition"]) == 2
    assert "issue 7" in capsys.readouterr().err


def test_bad_local_hosts_is_one_line_naming_the_variable(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setenv("MCLOUD_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("MCLOUD_LOCAL_HOSTS", "10.0.0.1,127.0.0.2,127.0.0.3")
    assert main(["--headless", "status"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mcloud-tui: MCLOUD_LOCAL_HOSTS") and "Traceback" not in err


def test_status_and_smoke_with_nothing_deployed(monkeypatch, capsys, tmp_path) -> None:
    monkeypatch.setenv("MCLOUD_STATE_DIR", str(tmp_path))
    monkeypatch.delenv("MCLOUD_LOCAL_HOSTS", raising=False)
    assert main(["--headless", "status"]) == 0
    assert "nothing deployed on the local target" in capsys.readouterr().out
    assert main(["--headless", "smoke"]) == 1
    out = capsys.readouterr().out
    assert "ERROR: nothing deployed" in out and "hint: run up first" in out


def test_unknown_command_is_rejected() -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--headless", "explode"])
    assert exc.value.code == 2
