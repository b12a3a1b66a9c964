"""Worker env parsing: every bad variable is one clear line naming it; secrets stay out of reprs."""

from __future__ import annotations

import pytest

from worker.config import ConfigError, WorkerConfig

BASE = {
    "WORKER_ID": "worker-gcp",
    "CLOUD": "gcp",
    "CP_ENDPOINTS": "127.0.2.1:50051,127.0.1.1:50051",
    "AUTH_TOKEN": "tok-SECRET",
}


def test_minimal_env() -> None:
    cfg = WorkerConfig.from_env(BASE)
    assert cfg.cp_endpoints == ("127.0.2.1:50051", "127.0.1.1:50051")
    assert (cfg.health_host, cfg.health_port) == ("0.0.0.0", 8081)
    assert cfg.storage is None and cfg.gpu == "auto"


def test_storage_env() -> None:
    cfg = WorkerConfig.from_env(
        BASE | {"MINIO_ENDPOINT": "127.0.1.1:9000", "MINIO_ACCESS_KEY": "ak", "MINIO_SECRET_KEY": "sk-SECRET"}
    )
    assert cfg.storage is not None and cfg.storage.bucket == "mcloud" and cfg.storage.secure is False
    assert "SECRET" not in repr(cfg)


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"CLOUD": ""}, "CLOUD"),
        ({"CP_ENDPOINTS": ""}, "CP_ENDPOINTS"),
        ({"CP_ENDPOINTS": "nohost"}, "CP_ENDPOINTS"),
        ({"AUTH_TOKEN": ""}, "AUTH_TOKEN"),
        ({"HEALTH_ADDR": "8081"}, "HEALTH_ADDR"),
        ({"WORKER_GPU": "maybe"}, "WORKER_GPU"),
        ({"WORKER_ID": "a b"}, "WORKER_ID"),
        ({"LEASE_BATCH": "many"}, "LEASE_BATCH"),
        ({"STOP_GRACE_S": "-1"}, "STOP_GRACE_S"),
        (
            {"MINIO_ENDPOINT": "http://x:9000", "MINIO_ACCESS_KEY": "a", "MINIO_SECRET_KEY": "b"},
            "MINIO_ENDPOINT",
        ),
        ({"MINIO_ENDPOINT": "x:9000", "MINIO_SECRET_KEY": "b"}, "MINIO_ACCESS_KEY"),
        (
            {
                "MINIO_ENDPOINT": "x:9000",
                "MINIO_ACCESS_KEY": "a",
                "MINIO_SECRET_KEY": "b",
                "MINIO_SECURE": "sure",
            },
            "MINIO_SECURE",
        ),
    ],
)
def test_bad_env_names_the_variable(change: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names) as exc:
        WorkerConfig.from_env(BASE | change)
    assert "SECRET" not in str(exc.value)
