"""``Trainer``: the one training loop every task uses.

One loop that reads top to bottom: data, forward, loss, backward, clip, step, schedule, callbacks (evaluation,
checkpoints, budgets). AdamW (Loshchilov & Hutter 2019); gradient clipping by global norm, which recurrent
networks need against exploding gradients (Pascanu et al. 2013); mixed precision, accumulation and weight averaging
(``TrainConfig.ema_decay``: evaluation and the best weights then use the average) are visible ``if``s.

Example:
    >>> trainer = Trainer(TrainConfig(max_epochs=20, early_stopping_patience=3), out_dir="runs/lstm")
    >>> result = trainer.fit(model, TensorBatches(x, y, batch_size=32), valid=TensorBatches(xv, yv, shuffle=False),
    ...                      loss_fn=lambda m, b: F.mse_loss(m(b[0]), b[1]))
    >>> result.stopped, result.best_metric   # the model now holds the best weights by val_loss
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from torch import Tensor

from rnnkit.train.averaging import WeightAverage
from rnnkit.train.batches import iterate, to_device
from rnnkit.train.checkpoint import clear, load_checkpoint, read_pointer, save_checkpoint, set_rng_state
from rnnkit.train.config import TrainConfig
from rnnkit.train.folders import WEIGHTS, plain_tensors
from rnnkit.train.progress import MetricsLog, Progress
from rnnkit.train.runtime import autocast_dtype, resolve_device, seed_everything, setup_runtime
from rnnkit.train.schedule import Schedule, improved


@dataclass
class FitResult:
    """What ``Trainer.fit`` did. The model passed to ``fit`` holds the best weights by ``monitor``."""

    best_metric: float | None  # best value of the monitor
    best_step: int  # optimizer step at which it was reached
    steps: int  # optimizer steps taken (in total, across resumptions)
    epochs: int  # completed epochs
    stopped: str  # "max_epochs" | "max_steps" | "max_time" | "early_stopping"
    history: list[dict[str, Any]]  # one record per evaluation (as in metrics.jsonl)
    seconds: float  # training time, across resumptions
    monitor: str = "val_loss"  # the metric actually monitored (train_loss without validation)
    best_checkpoint: Path | None = None  # folder of the best checkpoint (loads with load_model_folder)


@dataclass
class _Loop:
    """The loop's position and memory; saved as JSON in every checkpoint so a resumed run continues exactly."""

    epoch: int = 0  # current epoch (= completed epochs)
    batch: int = 0  # batches of the current epoch already consumed
    step: int = 0  # optimizer steps taken
    best: float | None = None  # best monitor value so far
    best_step: int = 0  # step of the best value
    bad_evals: int = 0  # evaluations since the monitor last improved (early stopping)
    loss_sum: float = 0.0  # training loss summed since the last evaluation
    loss_count: int = 0  # batches summed in loss_sum
    seconds: float = 0.0  # training time at the last checkpoint
    history: list[dict[str, Any]] = field(default_factory=list)


class Trainer:
    """Fit any ``nn.Module`` with a loss function; checkpoints make runs resumable bit for bit.

    Args:
        config: the training settings (``TrainConfig()`` if None).
        out_dir: folder for atomic checkpoints and ``metrics.jsonl``; None keeps everything in memory.

    Attributes:
        device: the resolved torch device; batches reach ``loss_fn`` already moved there.
    """

    def __init__(self, config: TrainConfig | None = None, out_dir: str | Path | None = None):
        config = TrainConfig() if config is None else config
        if not isinstance(config, TrainConfig):
            raise ValueError(f"Trainer expects a TrainConfig, got {type(config).__name__}")
        self.config, self.out_dir = config, None if out_dir is None else Path(out_dir)
        self.device = resolve_device(config.device)
        self.amp_dtype = autocast_dtype(config.precision, self.device)

    def fit(self, model: torch.nn.Module, train: Any, valid: Any = None,
            loss_fn: Callable[[torch.nn.Module, Any], Tensor] | None = None,
            eval_fn: Callable[[torch.nn.Module], dict[str, float]] | None = None,
            model_config: dict[str, Any] | None = None, resume: bool = False,
            callbacks: Sequence[Callable[[dict[str, Any]], None]] = ()) -> FitResult:
        """Train ``model`` until a budget ends or early stopping; leave the best weights in it.

        Args:
            model: any module; moved to ``self.device``.
            train: a batch source (``TensorBatches``, ``SampleBatches``, any ``__len__`` + ``epoch(e)`` object).
            valid: batches for ``val_loss`` (the mean of ``loss_fn`` over them), or None.
            loss_fn: ``loss_fn(model, batch) -> scalar Tensor``.
            eval_fn: ``eval_fn(model) -> {name: float}``, called in eval mode under ``no_grad``.
            model_config: JSON settings that rebuild the model; stored in every checkpoint's ``config.json``.
            resume: continue from the latest checkpoint in ``out_dir`` (a fresh start if there is none yet); on CPU
                the run then ends with the same weights, bit for bit, as an uninterrupted one. On CUDA it continues
                closely but not bitwise: cuDNN's RNN dropout keeps a random state that is not saved. Without
                ``resume``, earlier checkpoints in ``out_dir`` are deleted.
            callbacks: called with each evaluation record (a dict) after it is logged.
        """
        c, out = self.config, self.out_dir
        if loss_fn is None:
            raise ValueError("Trainer.fit needs loss_fn(model, batch) -> scalar loss tensor")
        if resume and out is None:
            raise ValueError("resume=True needs Trainer(out_dir=...): checkpoints are read from there")
        n_batches = len(train)
        if n_batches == 0:
            raise ValueError("the training batch source is empty (len(train) == 0)")
        setup_runtime(c.num_threads)
        model.to(self.device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        steps_per_epoch = math.ceil(n_batches / c.grad_accum)
        horizons = [h for h in (c.max_steps, c.max_epochs and c.max_epochs * steps_per_epoch) if h]
        schedule = Schedule(c, min(horizons) if horizons else None)
        average = WeightAverage(model, c.ema_decay) if c.ema_decay else None
        monitor = "train_loss" if c.monitor == "val_loss" and valid is None and eval_fn is None else c.monitor
        saved_config = {"train_config": c.to_dict(), "model_config": model_config}
        loop, best_state, best_name, log = _Loop(), None, None, MetricsLog(out)

        if resume and read_pointer(out) is not None:
            ckpt = load_checkpoint(out)
            self._check_resumable(ckpt, n_batches)
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            loop = _Loop(**ckpt["trainer"]["loop"])
            schedule.load_state_dict(ckpt["trainer"]["schedule"])
            if average is not None and ckpt["averaged"] is not None:
                average.load_state_dict(ckpt["averaged"], ckpt["trainer"].get("averaged_updates", 0))
            elif average is not None:  # averaging switched on at resumption: it starts from the weights now
                average = WeightAverage(model, c.ema_decay)
            best_name = read_pointer(out)["best"] if loop.best is not None else None
            best_state = load_file(str(out / best_name / WEIGHTS)) if best_name else None
            set_rng_state(*ckpt["rng"])  # last: nothing may draw random numbers between here and the loop
        else:  # a fresh start forgets earlier checkpoints in out_dir
            if out is not None:
                clear(out)
            seed_everything(c.seed)
        log.reset(loop.history)
        progress = Progress(c.progress, schedule.total_steps)
        t0 = time.monotonic() - loop.seconds

        def evaluate() -> None:
            """Metrics, best weights, plateau schedule, log, callbacks, checkpoint."""
            nonlocal best_state
            epoch = round(loop.epoch + loop.batch / n_batches, 3)
            record = {"epoch": int(epoch) if epoch == int(epoch) else epoch, "step": loop.step,
                      "lr": schedule.lr(max(0, loop.step - 1), time.monotonic() - t0),
                      "train_loss": loop.loss_sum / max(1, loop.loss_count)}
            # with weight averaging, the average is what is evaluated and kept as the best weights
            weights = average.applied() if average is not None else contextlib.nullcontext()
            with weights:
                record.update(self._metrics(model, valid, loss_fn, eval_fn))
                if monitor not in record:
                    raise ValueError(f"TrainConfig.monitor={monitor!r} is not among the evaluation metrics "
                                     f"{sorted(record)}; set monitor to one of them (and mode to 'min' or 'max')")
                value = record[monitor]
                is_best = math.isfinite(value) and improved(value, loop.best, c.mode)
                if is_best:
                    best_state = plain_tensors(model.state_dict())
            loop.seconds = record["seconds"] = round(time.monotonic() - t0, 3)
            if is_best:
                loop.best, loop.best_step, loop.bad_evals = value, loop.step, 0
            else:
                loop.bad_evals += 1
            schedule.observe(value)
            loop.loss_sum, loop.loss_count = 0.0, 0
            loop.history.append(record)
            log.append(record)
            progress.evaluation(record)
            for callback in callbacks:
                callback(record)
            checkpoint(is_best)

        def checkpoint(is_best: bool) -> None:
            nonlocal best_name
            if out is not None:
                loop.seconds = time.monotonic() - t0
                state = {"loop": dataclasses.asdict(loop), "schedule": schedule.state_dict(), "n_batches": n_batches}
                averaged = None
                if average is not None:
                    state["averaged_updates"], averaged = average.updates, average.state_dict()
                name = save_checkpoint(out, model.state_dict(), optimizer.state_dict(), state, saved_config,
                                       best=None if is_best else best_name, averaged_state=averaged)
                best_name = name if is_best else best_name

        model.train()
        stopped = self._stop_reason(loop, t0)
        while stopped is None:
            group = 0  # batches accumulated towards the next optimizer step
            for batch in iterate(train, loop.epoch, loop.batch):
                # data: the last group of an epoch may be short; its gradients still average over its own size
                if loop.batch >= n_batches:
                    raise ValueError(f"the training batch source yields more batches than its len() = {n_batches}")
                batch = to_device(batch, self.device)
                group_size = min(c.grad_accum, n_batches - loop.batch // c.grad_accum * c.grad_accum)
                loop.batch += 1
                # forward and loss
                if self.amp_dtype is not None:
                    with torch.autocast(self.device.type, dtype=self.amp_dtype):
                        loss = loss_fn(model, batch)
                else:
                    loss = loss_fn(model, batch)
                value = float(loss.detach())
                if not math.isfinite(value):
                    raise ValueError(f"training loss is {value} at step {loop.step} (epoch {loop.epoch}): lower "
                                     f"TrainConfig.lr (now {c.lr}), keep clip_grad_norm set, or check the data")
                loop.loss_sum, loop.loss_count = loop.loss_sum + value, loop.loss_count + 1
                # backward
                (loss / group_size).backward()
                group += 1
                if group < group_size:
                    continue
                group = 0
                # clip, step, schedule
                if c.clip_grad_norm is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), c.clip_grad_norm)
                lr = schedule.lr(loop.step, time.monotonic() - t0)
                for g in optimizer.param_groups:
                    g["lr"] = lr
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                if average is not None:
                    average.update()
                loop.step += 1
                progress.step(loop.step, value, lr)
                # callbacks: evaluation (with its checkpoint), extra checkpoints, budgets
                if c.eval_every is not None and loop.step % c.eval_every == 0:
                    evaluate()
                elif c.checkpoint_every is not None and loop.step % c.checkpoint_every == 0:
                    checkpoint(is_best=False)
                stopped = self._stop_reason(loop, t0)
                if stopped is not None:
                    break
            else:
                if loop.batch != n_batches:  # a resumed run would otherwise replay empty epochs forever
                    raise ValueError(f"the training batch source yielded {loop.batch} batches in epoch {loop.epoch} "
                                     f"but its len() is {n_batches}; they must agree")
            if loop.batch == n_batches:  # the epoch ran to its end
                loop.epoch, loop.batch = loop.epoch + 1, 0
                if c.eval_every is None:
                    evaluate()
                stopped = stopped or self._stop_reason(loop, t0)

        if loop.loss_count > 0:  # steps since the last evaluation still compete for the best weights
            evaluate()
        progress.close()
        if best_state is not None:
            model.load_state_dict(best_state)
        elif average is not None:  # no finite evaluation picked a best: the average is still the better model
            average.copy_to()
        return FitResult(best_metric=loop.best, best_step=loop.best_step, steps=loop.step, epochs=loop.epoch,
                         stopped=stopped, history=list(loop.history), seconds=time.monotonic() - t0,
                         monitor=monitor, best_checkpoint=out / best_name if best_name else None)

    def _check_resumable(self, ckpt: dict[str, Any], n_batches: int) -> None:
        """A resumed run must see the same batches; settings other than budgets change the replay (a warning)."""
        saved = ckpt["trainer"].get("n_batches")
        if saved is not None and saved != n_batches:
            raise ValueError(f"cannot resume from {ckpt['path']}: it was trained on {saved} batches an epoch, the "
                             f"training batch source now has {n_batches}; resume with the same data and batch size")
        before = ckpt["config"].get("train_config", {})
        free = {"max_epochs", "max_steps", "max_time", "progress"}
        changed = sorted(k for k, v in self.config.to_dict().items() if k not in free and before.get(k, v) != v)
        if changed:
            warnings.warn(f"resuming {ckpt['path']} with changed settings {changed}: the run continues, but no "
                          "longer replays the original one exactly", stacklevel=3)

    def _stop_reason(self, loop: _Loop, t0: float) -> str | None:
        """Which budget (or early stopping) ends the run now, if any."""
        c = self.config
        if c.early_stopping_patience is not None and loop.bad_evals >= c.early_stopping_patience:
            return "early_stopping"
        if c.max_steps is not None and loop.step >= c.max_steps:
            return "max_steps"
        if c.max_epochs is not None and loop.epoch >= c.max_epochs:
            return "max_epochs"
        if c.max_time is not None and time.monotonic() - t0 >= c.max_time * 60:
            return "max_time"
        return None

    def _metrics(self, model: torch.nn.Module, valid: Any, loss_fn: Callable, eval_fn: Callable | None
                 ) -> dict[str, float]:
        """``val_loss`` (mean of ``loss_fn`` over ``valid``) and ``eval_fn``'s metrics, in eval mode, no grad."""
        metrics: dict[str, float] = {}
        model.eval()
        with torch.no_grad():
            if valid is not None:
                losses = []
                for batch in iterate(valid, 0):
                    batch = to_device(batch, self.device)
                    if self.amp_dtype is not None:
                        with torch.autocast(self.device.type, dtype=self.amp_dtype):
                            losses.append(float(loss_fn(model, batch)))
                    else:
                        losses.append(float(loss_fn(model, batch)))
                if not losses:
                    raise ValueError("the validation batch source is empty")
                metrics["val_loss"] = sum(losses) / len(losses)
            if eval_fn is not None:
                metrics.update({k: float(v) for k, v in eval_fn(model).items()})
        model.train()
        return metrics
