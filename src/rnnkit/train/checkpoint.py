"""Training checkpoints: everything a run needs to continue bit for bit, in safetensors + JSON only.

Layout of a run's ``out_dir``::

    checkpoint.json            pointer: {"latest": "ckpt-...", "best": "ckpt-..."}, replaced atomically
    ckpt-00000120-1a2b3c4d/    one checkpoint (a model folder plus the training state)
        config.json            {"train_config": ..., "model_config": ..., "step": ...}
        model.safetensors      the weights (loads with ``load_model_folder``); with weight averaging, the average
        training.safetensors   only with weight averaging: the trained weights the run continues from
        optimizer.safetensors  optimizer tensors (AdamW moments, step counts), keys "state.<param>.<name>"
        optimizer.json         the rest of the optimizer state dict (param groups, non-tensor entries)
        rng.safetensors        torch CPU and CUDA generator states, numpy's key
        trainer.json           loop position (epoch, batch, step), scheduler, early stopping, history, RNG scalars
    metrics.jsonl              one JSON record per evaluation

A checkpoint folder is written in full under a hidden name, renamed into place, and only then does the pointer
switch to it (``os.replace`` of a small JSON file); folders the pointer no longer names are deleted afterwards.
A crash at any moment leaves the previous pointer and its folders intact.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file
from torch import Tensor

from rnnkit.train.folders import CONFIG, POINTER, WEIGHTS, temp_sibling, write_folder, write_json

CHECKPOINT_FILES = (CONFIG, WEIGHTS, "optimizer.safetensors", "optimizer.json", "rng.safetensors", "trainer.json")
TRAINING_WEIGHTS = "training.safetensors"


# ---- optimizer state: tensors to safetensors, everything else to JSON ----------------------------------------

def flatten_optimizer(state_dict: dict[str, Any]) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Split ``optimizer.state_dict()`` into a flat dict of tensors and a JSON-ready rest."""
    tensors: dict[str, Tensor] = {}
    rest: dict[str, Any] = {"state": {}, "param_groups": state_dict["param_groups"]}
    for pid, entries in state_dict["state"].items():
        rest["state"][str(pid)] = {}
        for name, value in entries.items():
            if isinstance(value, Tensor):
                tensors[f"state.{pid}.{name}"] = value
            else:
                rest["state"][str(pid)][name] = value
    return tensors, rest


def unflatten_optimizer(tensors: dict[str, Tensor], rest: dict[str, Any]) -> dict[str, Any]:
    """Inverse of ``flatten_optimizer``."""
    state: dict[int, dict[str, Any]] = {int(pid): dict(entries) for pid, entries in rest["state"].items()}
    for key, value in tensors.items():
        _, pid, name = key.split(".", 2)
        state.setdefault(int(pid), {})[name] = value
    groups = []
    for g in rest["param_groups"]:
        g = dict(g)
        if isinstance(g.get("betas"), list):  # JSON has no tuples
            g["betas"] = tuple(g["betas"])
        groups.append(g)
    return {"state": state, "param_groups": groups}


# ---- random number generators ----------------------------------------------------------------------------------

def rng_state() -> tuple[dict[str, Tensor], dict[str, Any]]:
    """The state of every global generator: torch CPU (+ each CUDA device), numpy, python ``random``."""
    tensors = {"torch_cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"torch_cuda.{i}"] = s
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    tensors["numpy_keys"] = torch.from_numpy(keys.astype(np.int64))
    version, py_state, py_gauss = random.getstate()
    scalars = {"numpy": [kind, int(pos), int(has_gauss), float(gauss)], "python": [version, list(py_state), py_gauss]}
    return tensors, scalars


def set_rng_state(tensors: dict[str, Tensor], scalars: dict[str, Any]) -> None:
    """Restore what ``rng_state`` captured (CUDA states only where the devices exist)."""
    torch.set_rng_state(tensors["torch_cpu"])
    cuda_keys = sorted((k for k in tensors if k.startswith("torch_cuda.")), key=lambda k: int(k.split(".")[1]))
    cuda = [tensors[k] for k in cuda_keys]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda[:torch.cuda.device_count()])
    kind, pos, has_gauss, gauss = scalars["numpy"]
    np.random.set_state((kind, tensors["numpy_keys"].numpy().astype(np.uint32), pos, has_gauss, gauss))
    version, py_state, py_gauss = scalars["python"]
    random.setstate((version, tuple(py_state), py_gauss))


# ---- writing and reading a run's checkpoints ------------------------------------------------------------------

def read_pointer(out_dir: Path) -> dict[str, str] | None:
    """The pointer of ``out_dir`` (``{"latest": name, "best": name}``), or None before the first checkpoint."""
    p = Path(out_dir) / POINTER
    if not p.is_file():
        return None
    return json.loads(p.read_text())


def write_pointer(out_dir: Path, pointer: dict[str, str]) -> None:
    """Switch the pointer atomically: write a temporary file, then ``os.replace`` it over the old one."""
    final = Path(out_dir) / POINTER
    tmp = temp_sibling(final)
    write_json(tmp, pointer)
    os.replace(tmp, final)


def save_checkpoint(out_dir: Path, model_state: dict[str, Tensor], optimizer_state: dict[str, Any],
                    trainer_state: dict[str, Any], config: dict[str, Any], best: str | None,
                    averaged_state: dict[str, Tensor] | None = None) -> str:
    """Write one checkpoint folder, switch the pointer to it, delete folders no longer named. Returns its name.

    ``best`` names the best checkpoint so far; None makes this new checkpoint the best. With ``averaged_state``
    (weight averaging) the folder serves the average as its weights and keeps ``model_state`` for resuming.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    step = trainer_state["loop"]["step"]
    name = f"ckpt-{step:08d}-{uuid.uuid4().hex[:8]}"
    opt_tensors, opt_rest = flatten_optimizer(optimizer_state)
    rng_tensors, rng_scalars = rng_state()
    weights = {WEIGHTS: model_state} if averaged_state is None else {
        WEIGHTS: {**model_state, **averaged_state}, TRAINING_WEIGHTS: model_state}
    write_folder(out_dir / name, {
        CONFIG: {**config, "step": step},
        **weights,
        "optimizer.safetensors": opt_tensors,
        "optimizer.json": opt_rest,
        "rng.safetensors": rng_tensors,
        "trainer.json": {**trainer_state, "rng": rng_scalars},
    })
    pointer = {"latest": name, "best": best or name}
    write_pointer(out_dir, pointer)
    cleanup(out_dir, keep=set(pointer.values()))
    return name


def clear(out_dir: Path) -> None:
    """Forget earlier checkpoints of ``out_dir`` (a fresh run): the pointer first, then the folders."""
    (Path(out_dir) / POINTER).unlink(missing_ok=True)
    if Path(out_dir).is_dir():
        cleanup(out_dir, keep=set())


def cleanup(out_dir: Path, keep: set[str]) -> None:
    """Delete checkpoint folders not in ``keep`` and leftovers of interrupted writes."""
    for p in Path(out_dir).iterdir():
        stale = (p.name.startswith("ckpt-") and p.name not in keep) or p.name.startswith((".ckpt-", f".{POINTER}."))
        if stale:
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def load_checkpoint(out_dir: Path, which: str = "latest") -> dict[str, Any]:
    """Read the checkpoint the pointer names (``"latest"`` or ``"best"``).

    Returns a dict with ``config``, ``model`` (the trained state dict), ``averaged`` (the averaged one, or None
    without weight averaging), ``optimizer`` (state dict), ``trainer`` (loop state), ``rng`` (``(tensors,
    scalars)``), ``path``.
    """
    out_dir = Path(out_dir)
    pointer = read_pointer(out_dir)
    if pointer is None:
        raise ValueError(f"no checkpoint in {out_dir}: {POINTER} is missing")
    path = out_dir / pointer[which]
    missing = [n for n in CHECKPOINT_FILES if not (path / n).is_file()]
    if missing:
        raise ValueError(f"checkpoint {path} is incomplete: missing {', '.join(missing)}")
    trainer = json.loads((path / "trainer.json").read_text())
    weights = load_file(str(path / WEIGHTS))
    averaged = (path / TRAINING_WEIGHTS).is_file()
    return {
        "path": path,
        "config": json.loads((path / CONFIG).read_text()),
        "model": load_file(str(path / TRAINING_WEIGHTS)) if averaged else weights,
        "averaged": weights if averaged else None,
        "optimizer": unflatten_optimizer(load_file(str(path / "optimizer.safetensors")),
                                         json.loads((path / "optimizer.json").read_text())),
        "rng": (load_file(str(path / "rng.safetensors")), trainer.pop("rng")),
        "trainer": trainer,
    }
