"""Jobs table: one row per job, updated in place as WatchJobs reports changes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

STATE_NAMES = {0: "unknown", 1: "pending", 2: "running", 3: "done", 4: "failed", 5: "cancelled"}
STATE_STYLES = {"pending": "grey70", "running": "yellow", "done": "green", "failed": "bold red",
                "cancelled": "grey50"}  # fmt: skip
COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "job"),
    ("state", "state"),
    ("cloud", "cloud"),
    ("worker", "worker"),
    ("device", "device"),
    ("duration", "time"),
    ("norm", "norm"),
    ("tflops", "TFLOP/s"),
)


@dataclass(frozen=True)
class JobRow:
    """The cells of one job, derived from a pb.Job (so the table never sees protobuf)."""

    id: str
    state: str
    cloud: str
    worker: str
    device: str
    duration: str
    norm: str
    tflops: str

    @classmethod
    def from_job(cls, job: Any, now: float) -> JobRow:
        """Build from a control_plane pb.Job (duck-typed: tests pass plain objects)."""
        result: dict[str, Any] = {}
        if getattr(job, "result_json", ""):
            try:
                loaded = json.loads(job.result_json)
                result = loaded if isinstance(loaded, dict) else {}
            except ValueError:
                result = {}
        state = STATE_NAMES.get(int(getattr(job, "state", 0)), "unknown")
        started = float(getattr(job, "started_at", 0.0) or 0.0)
        finished = float(getattr(job, "finished_at", 0.0) or 0.0)
        if "duration_ms" in result:
            duration = f"{float(result['duration_ms']) / 1000:.2f}s"
        elif started:
            duration = f"{(finished or now) - started:.1f}s"
        else:
            duration = "-"
        norm = result.get("result_norm")
        tflops = result.get("tflops")
        return cls(
            id=job.id,
            state=state,
            cloud=getattr(job, "worker_cloud", "") or getattr(job, "cloud", "") or "any",
            worker=getattr(job, "worker_id", "") or "-",
            device=str(result.get("device", "-")),
            duration=duration,
            norm=f"{float(norm):.4g}" if isinstance(norm, int | float) else "-",
            tflops=f"{float(tflops):.3f}" if isinstance(tflops, int | float) else "-",
        )

    def cells(self) -> dict[str, str | Text]:
        return {
            "id": self.id[:12],
            "state": Text(self.state, style=STATE_STYLES.get(self.state, "")),
            "cloud": self.cloud,
            "worker": self.worker,
            "device": self.device,
            "duration": self.duration,
            "norm": self.norm,
            "tflops": self.tflops,
        }


class JobsTable(DataTable):
    """DataTable keyed by job id; a change rewrites only the cells that changed."""

    DEFAULT_CSS = "JobsTable { height: 1fr; }"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self.rows_by_id: dict[str, JobRow] = {}

    def on_mount(self) -> None:
        for key, label in COLUMNS:
            self.add_column(label, key=key)

    def upsert(self, row: JobRow) -> None:
        """Add a new job, or update the changed cells of a known one in place."""
        old = self.rows_by_id.get(row.id)
        cells = row.cells()
        if old is None:
            self.add_row(*(cells[k] for k, _ in COLUMNS), key=row.id)
            # The cursor row can be rendered before the new row widens its columns, and DataTable
            # (8.2.8) keeps that narrow render cached: drop the row caches once widths are known.
            self.call_after_refresh(self._rerender)
        else:
            before = old.cells()
            for key, _ in COLUMNS:
                if str(before[key]) != str(cells[key]):
                    self.update_cell(row.id, key, cells[key], update_width=True)
        self.rows_by_id[row.id] = row

    def _rerender(self) -> None:
        self.notify_style_update()
        self.refresh()
