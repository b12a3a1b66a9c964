"""worker.storage against the embedded moto stand-in (in-process): round trip, job keys, guard, checks."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from worker.storage import Storage, StorageConfig, StorageError, job_key
from worker.storage_check import main as check_main
from worker.storage_check import round_trip
from worker.storage_server import ConfigError, MotoStorage, ServerConfig

AK, SK = "test-access", "test-secret-key"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    cfg = ServerConfig(
        host="127.0.0.1", port=0, access_key=AK, secret_key=SK, data_dir="", bucket="mcloud", backend="moto"
    )
    server = MotoStorage(cfg)
    host, port = server.start()
    try:
        yield f"{host}:{port}"
    finally:
        server.stop()


def storage(endpoint: str, access: str = AK, bucket: str = "mcloud") -> Storage:
    return Storage(StorageConfig(endpoint, access, SK, bucket), timeout_s=3, retries=0)


def test_round_trip_and_job_artifacts(moto_endpoint: str) -> None:
    s = storage(moto_endpoint)
    s.ensure_bucket()
    assert s.ensure_bucket() is False  # already there
    uri = s.put_job_artifact("job-1", "product.pt", b"abc")
    assert uri == "s3://mcloud/jobs/job-1/product.pt"
    assert s.get_bytes("jobs/job-1/product.pt") == b"abc"
    assert "jobs/job-1/product.pt" in s.list_keys("jobs/job-1/")
    s.delete("jobs/job-1/product.pt")
    assert s.list_keys("jobs/job-1/") == []
    assert s.check() is True


def test_round_trip_helper(moto_endpoint: str) -> None:
    assert round_trip(storage(moto_endpoint, bucket="other")) >= 0


def test_wrong_access_key_is_refused(moto_endpoint: str) -> None:
    with pytest.raises(StorageError, match="InvalidAccessKeyId") as exc:
        storage(moto_endpoint, access="intruder").ensure_bucket()
    assert SK not in str(exc.value)


def test_unreachable_endpoint_is_one_clear_line() -> None:
    s = storage("127.0.0.1:1")
    assert s.check() is False
    with pytest.raises(StorageError, match=r"127\.0\.0\.1:1 failed: cannot connect"):
        s.ensure_bucket()


def test_credentials_never_logged_or_shown(moto_endpoint: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    s = storage(moto_endpoint, bucket="logged")
    s.ensure_bucket()
    assert SK not in repr(s) and SK not in repr(s.cfg)
    assert SK not in caplog.text


def test_job_key_refuses_escapes() -> None:
    assert job_key("j", "a/b.bin") == "jobs/j/a/b.bin"
    for bad in (("", "x"), ("a/b", "x"), ("j", ""), ("j", "/abs")):
        with pytest.raises(ValueError):
            job_key(*bad)


def test_storage_check_cli(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MINIO_ACCESS_KEY", AK)
    monkeypatch.setenv("MINIO_SECRET_KEY", SK)
    assert check_main([moto_endpoint]) == 0
    assert "ok (put/get/list/delete" in capsys.readouterr().out
    assert check_main([moto_endpoint, "127.0.0.1:1", "--timeout", "1"]) == 1
    err = capsys.readouterr().err
    assert "127.0.0.1:1 bucket mcloud: FAILED" in err and "1 of 2 endpoint(s) failed" in err
    assert SK not in err


@pytest.mark.parametrize(
    ("env", "var"),
    [
        ({"MINIO_SECRET_KEY": "longenough"}, "MINIO_ACCESS_KEY"),
        ({"MINIO_ACCESS_KEY": "abc"}, "MINIO_SECRET_KEY"),
        (
            {"MINIO_ACCESS_KEY": "abc", "MINIO_SECRET_KEY": "longenough", "STORAGE_ADDR": "9000"},
            "STORAGE_ADDR",
        ),
        (
            {"MINIO_ACCESS_KEY": "abc", "MINIO_SECRET_KEY": "longenough", "STORAGE_BACKEND": "s3"},
            "STORAGE_BACKEND",
        ),
    ],
)
def test_server_env_errors_name_the_variable(env: dict[str, str], var: str) -> None:
    with pytest.raises(ConfigError, match=var):
        ServerConfig.from_env(env)


def test_server_defaults_to_moto_without_a_minio_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    cfg = ServerConfig.from_env({"MINIO_ACCESS_KEY": "abc", "MINIO_SECRET_KEY": "longenough"})
    assert cfg.backend == "moto" and (cfg.host, cfg.port) == ("0.0.0.0", 9000)
    assert "longenough" not in repr(cfg)
