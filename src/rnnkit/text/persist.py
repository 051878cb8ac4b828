"""Model folders for the text tasks: config.json + model.safetensors + vocab.json (+ tokenizer.model).

The classifier and the language model store their tokenizer and vocabulary the same way; this module is that one way.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from rnnkit.text.tokenizers import SentencePieceTokenizer, make_tokenizer
from rnnkit.text.vocab import Vocabulary


def save_text_model(path: str | Path, model: nn.Module, config: dict[str, Any], tokenizer, vocab: Vocabulary) -> None:
    """Write ``model`` with ``config`` plus its tokenizer (config entry, and the sentencepiece model if any)."""
    from rnnkit.train import save_model_folder

    config = {**config, "tokenizer": tokenizer.to_config()}
    extra = {"vocab.json": json.dumps(vocab.to_list())}
    if isinstance(tokenizer, SentencePieceTokenizer):
        extra["tokenizer.model"] = tokenizer.model_proto_
    save_model_folder(path, model, config, extra=extra)


def load_text_model(path: str | Path, task: str, what: str
                    ) -> tuple[dict[str, Any], dict[str, Tensor], Any, Vocabulary]:
    """Read a folder written by :func:`save_text_model` for ``task``.

    Returns ``(config, state_dict, tokenizer, vocabulary)``; an incomplete folder or a folder of another task
    raises ValueError naming what is wrong (``what`` names the expected model, e.g. "a language model").
    """
    from rnnkit.train import load_model_folder

    path = Path(path)
    sentencepiece = False
    if (path / "config.json").is_file():
        try:
            sentencepiece = json.loads((path / "config.json").read_text(encoding="utf-8"))["tokenizer"]["kind"] == "sentencepiece"
        except (ValueError, KeyError, TypeError):
            sentencepiece = False
    required = ("vocab.json",) + (("tokenizer.model",) if sentencepiece else ())
    config, state = load_model_folder(path, required=required)
    if config.get("task") != task:
        raise ValueError(f"model folder {path} holds a {config.get('task')!r} model, not {what}")
    proto = (path / "tokenizer.model").read_bytes() if sentencepiece else None
    tokenizer = make_tokenizer(config["tokenizer"], proto)
    vocab = Vocabulary.from_list(json.loads((path / "vocab.json").read_text(encoding="utf-8")))
    return config, state, tokenizer, vocab
