"""Feedback during training: a rich progress bar on a terminal, one line per evaluation otherwise, a JSONL log."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def format_record(record: dict[str, Any]) -> str:
    """``epoch 3 step 120 train_loss 0.1234 val_loss 0.2345 lr 1.00e-03 12.3s`` from an evaluation record."""
    parts = [f"epoch {record['epoch']}", f"step {record['step']}"]
    for k, v in record.items():
        if k in ("epoch", "step", "lr", "seconds"):
            continue
        parts.append(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}")
    parts += [f"lr {record['lr']:.2e}", f"{record['seconds']:.1f}s"]
    return " ".join(parts)


class Progress:
    """Progress bar with loss, last metrics and ETA (rich, when stdout is a terminal) plus evaluation lines.

    Args:
        enabled: False silences everything.
        total_steps: optimizer steps of the whole run if known (the bar shows the ETA), else None.
    """

    def __init__(self, enabled: bool, total_steps: int | None):
        self.enabled, self.total_steps, self._bar, self._task, self._metrics = enabled, total_steps, None, None, ""
        if enabled and sys.stdout.isatty():
            from rich import progress as rp

            self._bar = rp.Progress(rp.TextColumn("train"), rp.BarColumn(), rp.MofNCompleteColumn(), rp.TimeElapsedColumn(),
                                    rp.TextColumn("eta"), rp.TimeRemainingColumn(), rp.TextColumn("{task.fields[info]}"))
            self._task = self._bar.add_task("train", total=total_steps, info="")
            self._bar.start()

    def step(self, step: int, loss: float, lr: float) -> None:
        """After each optimizer step."""
        if self._bar is not None:
            self._bar.update(self._task, completed=step, info=f"loss {loss:.4g} lr {lr:.2e} {self._metrics}")

    def evaluation(self, record: dict[str, Any]) -> None:
        """After each evaluation: one concise line."""
        if not self.enabled:
            return
        line = format_record(record)
        self._metrics = " ".join(f"{k} {v:.4g}" for k, v in record.items()
                                 if k not in ("epoch", "step", "lr", "seconds", "train_loss") and isinstance(v, float))
        if self._bar is not None:
            self._bar.console.print(line)
        else:
            print(line, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


class MetricsLog:
    """``out_dir/metrics.jsonl``: one JSON object per evaluation, appended as it happens."""

    def __init__(self, out_dir: Path | None):
        self.path = None if out_dir is None else Path(out_dir) / "metrics.jsonl"

    def reset(self, history: list[dict[str, Any]]) -> None:
        """Rewrite the log to exactly ``history`` (a fresh run: empty; a resumed run: the checkpoint's records)."""
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in history))
        tmp.replace(self.path)

    def append(self, record: dict[str, Any]) -> None:
        if self.path is not None:
            with open(self.path, "a") as f:
                f.write(json.dumps(record) + "\n")
