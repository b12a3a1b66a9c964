"""The matrix_multiply task: the seed's output, CPU fallback, payload checks that name the field."""

from __future__ import annotations

import io
import math
from typing import Any

import pytest
import torch

from worker.tasks import TaskContext, run_task
from worker.tasks import matrix_multiply as mm

SEED_FIELDS = {"device", "size", "duration_ms", "result_norm", "tflops", "dtype"}


def test_seed_output_fields_on_cpu() -> None:
    out = mm.run({"size": 128})
    assert out.keys() >= SEED_FIELDS
    assert out["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    assert out["size"] == 128 and out["dtype"] == "float32" and out["repeat"] == 1
    assert out["duration_ms"] > 0 and out["tflops"] > 0
    assert math.isfinite(out["result_norm"]) and out["result_norm"] > 0


def test_result_norm_is_deterministic_per_seed() -> None:
    a, b = mm.run({"size": 64, "seed": 7}), mm.run({"size": 64, "seed": 7})
    c = mm.run({"size": 64, "seed": 8})
    assert a["result_norm"] == b["result_norm"] != c["result_norm"]


def test_norm_matches_a_plain_product() -> None:
    gen = torch.Generator().manual_seed(3)
    a = torch.randn(32, 32, generator=gen)
    b = torch.randn(32, 32, generator=gen)
    expected = float(torch.linalg.vector_norm(a @ b))
    assert mm.run({"size": 32, "seed": 3}, TaskContext(device="cpu"))["result_norm"] == pytest.approx(
        expected, rel=1e-5
    )


@pytest.mark.parametrize("dtype", ["float32", "bfloat16", "float16"])
def test_dtypes_and_repeat(dtype: str) -> None:
    out = mm.run({"size": 64, "dtype": dtype, "repeat": 3})
    assert out["dtype"] == dtype and out["repeat"] == 3 and out["tflops"] > 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"size": 0}, "'size'"),
        ({"size": -1}, "'size'"),
        ({"size": "abc"}, "'size'"),
        ({"size": 10**6}, "'size'"),
        ({"size": 1.5}, "'size'"),
        ({"size": True}, "'size'"),
        ({}, "'size' is required"),
        ({"size": 8, "dtype": "int8"}, "'dtype'"),
        ({"size": 8, "repeat": 0}, "'repeat'"),
        ({"size": 8, "seed": "x"}, "'seed'"),
        ({"size": 8, "store_result": "yes"}, "'store_result'"),
    ],
)
def test_bad_payload_names_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        mm.run(payload)


def test_message_quotes_the_bad_value() -> None:
    with pytest.raises(ValueError) as exc:
        run_task("matrix_multiply", {"size": "abc"})
    assert str(exc.value) == "payload field 'size' must be an integer between 1 and 16384, got 'abc'"


def test_payload_must_be_an_object() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        run_task("matrix_multiply", [1, 2])  # type: ignore[arg-type]


def test_too_large_for_memory_is_refused_before_allocating(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mm, "available_bytes", lambda device: 10 * 2**20)  # 10 MiB free

    def boom(*a: object, **k: object) -> None:
        raise AssertionError("allocated before the memory check")

    monkeypatch.setattr(torch, "randn", boom)
    with pytest.raises(ValueError, match=r"payload field 'size' \(4096\) needs 0\.19 GiB"):
        mm.run({"size": 4096})


def test_available_bytes_is_positive_on_cpu() -> None:
    assert mm.available_bytes("cpu") > 0


def test_store_result_needs_storage() -> None:
    with pytest.raises(ValueError, match="'store_result' needs storage"):
        mm.run({"size": 8, "store_result": True}, TaskContext(job_id="j1"))


class FakeStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_job_artifact(self, job_id: str, name: str, data: bytes, content_type: str = "") -> str:
        key = f"jobs/{job_id}/{name}"
        self.objects[key] = data
        return f"s3://mcloud/{key}"


def test_store_result_uploads_the_product() -> None:
    store = FakeStore()
    out = mm.run({"size": 16, "seed": 1, "store_result": True}, TaskContext(job_id="job42", storage=store))
    assert out["artifact_uri"] == "s3://mcloud/jobs/job42/product.pt"
    product = torch.load(io.BytesIO(store.objects["jobs/job42/product.pt"]))
    assert product.shape == (16, 16)
    assert float(torch.linalg.vector_norm(product)) == pytest.approx(out["result_norm"], rel=1e-5)
