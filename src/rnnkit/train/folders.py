"""Model folders: ``config.json`` + ``model.safetensors`` (+ extra files), written atomically, never pickled.

A folder is first written completely under a hidden temporary name beside its destination, then renamed into
place, so a reader never sees half a folder.

Example:
    >>> save_model_folder("out/model", model, {"kind": "lstm", "hidden_size": 64}, extra={"scaler.json": "{}"})
    >>> config, state_dict = load_model_folder("out/model", required=("scaler.json",))
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor

CONFIG, WEIGHTS = "config.json", "model.safetensors"
POINTER = "checkpoint.json"  # in a training run's folder: names the latest and the best checkpoint


def plain_tensors(tensors: dict[str, Tensor]) -> dict[str, Tensor]:
    """CPU, contiguous, unshared copies (safetensors refuses tensors that share memory, e.g. tied weights)."""
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in tensors.items()}


def write_json(path: Path, obj: Any) -> None:
    """Write JSON and flush it to disk (callers rename the enclosing folder or this file into place)."""
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def write_bytes(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def temp_sibling(path: Path, tag: str = "tmp") -> Path:
    """A hidden, unique name beside ``path`` (same filesystem, so a rename is atomic)."""
    return path.parent / f".{path.name}.{tag}-{uuid.uuid4().hex[:8]}"


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not supported everywhere (e.g. Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_folder(path: Path, files: dict[str, bytes | str | dict | Tensor]) -> None:
    """Write ``files`` into a fresh folder ``path`` atomically; ``path`` must not exist yet.

    Values: ``bytes`` / ``str`` are written as they are, a ``dict`` of tensors (all values Tensors) goes to
    safetensors, any other ``dict`` / ``list`` to JSON.
    """
    tmp = temp_sibling(path)
    tmp.mkdir(parents=True)
    try:
        for name, value in files.items():
            if isinstance(value, str):
                value = value.encode()
            if isinstance(value, bytes):
                write_bytes(tmp / name, value)
            elif isinstance(value, dict) and value and all(isinstance(v, Tensor) for v in value.values()):
                save_file(plain_tensors(value), str(tmp / name))
            elif name.endswith(".safetensors"):
                save_file(plain_tensors(value or {}), str(tmp / name))
            else:
                write_json(tmp / name, value)
        _fsync_dir(tmp)
        os.rename(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def check_save_target(path: str | os.PathLike) -> None:
    """Refuse a save path that is a file, or a folder that holds files but no model (no ``config.json``):
    saving replaces the folder whole, so ``--out .`` would otherwise delete the user's data beside it.

    Call it before training, so that a bad ``--out`` costs nothing; :func:`save_model_folder` calls it too.

    Raises:
        ValueError: naming what is in the way and what to do.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"cannot save the model to {path}: it is a file; give a folder name for the model")
    if path.is_dir() and not (path / CONFIG).is_file():
        other = sorted(p.name for p in path.iterdir())
        if other:
            shown = ", ".join(other[:3]) + (f" and {len(other) - 3} more" if len(other) > 3 else "")
            raise ValueError(f"cannot save the model to {path}: the folder holds other files ({shown}) and saving "
                             "replaces the folder whole; give a new folder name for the model")


def save_model_folder(path: str | os.PathLike, model_or_state_dict: torch.nn.Module | dict[str, Tensor],
                      config: dict[str, Any], extra: dict[str, bytes | str] | None = None) -> Path:
    """Write ``path/config.json`` + ``path/model.safetensors`` (+ ``extra`` files) atomically.

    An existing model folder at ``path`` is replaced: the new folder is complete before the old one moves aside.
    A file, or a folder of other files, is refused (:func:`check_save_target`).

    Args:
        path: destination folder.
        model_or_state_dict: a module (its ``state_dict()`` is saved) or a dict of tensors.
        config: JSON-serialisable settings needed to rebuild the model (travels as ``config.json``).
        extra: more files the model needs to run alone, name -> content (e.g. ``"tokenizer.model"``, ``"scaler.json"``).

    Returns:
        The folder path.
    """
    path = Path(path)
    check_save_target(path)
    state = model_or_state_dict.state_dict() if isinstance(model_or_state_dict, torch.nn.Module) else model_or_state_dict
    if not isinstance(state, dict) or not all(isinstance(v, Tensor) for v in state.values()):
        raise ValueError("save_model_folder expects an nn.Module or a dict of tensors (a state_dict)")
    try:
        json.dumps(config)
    except TypeError as e:
        raise ValueError(f"save_model_folder config must be JSON-serialisable: {e}") from None
    extra = dict(extra or {})
    for name, content in extra.items():
        if name in (CONFIG, WEIGHTS) or not name or Path(name).name != name or name.startswith("."):
            raise ValueError(f"extra file name {name!r} must be a plain file name other than {CONFIG} / {WEIGHTS}")
        if not isinstance(content, (bytes, str)):
            raise ValueError(f"extra file {name!r} must be bytes or str, got {type(content).__name__}")
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = temp_sibling(path, "new")
    write_folder(staged, {CONFIG: json.dumps(config, indent=2) + "\n", WEIGHTS: state, **extra})
    old = None
    if path.exists():
        old = temp_sibling(path, "old")
        os.rename(path, old)
    os.rename(staged, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return path


def load_model_folder(path: str | os.PathLike, required: tuple[str, ...] | list[str] = ()
                      ) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """Read a folder written by ``save_model_folder`` (or a training checkpoint): ``(config, state_dict)``.

    Args:
        path: the folder; a training run's ``out_dir`` loads its best checkpoint (it follows the pointer).
        required: further file names that must be present (e.g. ``("tokenizer.model",)``).

    Raises:
        ValueError: the folder does not exist, or misses a file (the message names each missing file).
    """
    path = Path(path)
    if (path / POINTER).is_file() and not (path / CONFIG).exists():
        path = path / json.loads((path / POINTER).read_text())["best"]
    if path.is_file():
        raise ValueError(f"{path} is a file, not a model folder: give the folder that holds {CONFIG} and {WEIGHTS}"
                         f"{f' (here: {path.parent})' if path.name in (CONFIG, WEIGHTS) else ''}")
    if not path.is_dir():
        raise ValueError(f"model folder {path} does not exist (expected a folder with {CONFIG} and {WEIGHTS})")
    missing = [n for n in (CONFIG, WEIGHTS, *required) if not (path / n).is_file()]
    if missing:
        raise ValueError(f"model folder {path} is incomplete: missing {', '.join(missing)}")
    try:
        config = json.loads((path / CONFIG).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"model folder {path} has an unreadable {CONFIG}: {e}") from None
    try:
        return config, load_file(str(path / WEIGHTS), device="cpu")
    except SafetensorError as e:  # cut short or overwritten: name the folder, not a library internal
        raise ValueError(f"model folder {path} has an unreadable {WEIGHTS} ({e}); copy it again or train the model "
                         "again") from None
