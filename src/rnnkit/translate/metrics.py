"""Scores and alignments: sacreBLEU and chrF with their signatures, and the attention heatmap.

BLEU is corpus-level sacreBLEU (Post 2018) on detokenized text. Its tokenizer is chosen from the text unless
given: ``none`` when the target is already word-tokenized (the references' own tokens), ``char`` when the
references are mostly CJK (no external Japanese segmenter needed), else the standard ``13a``. chrF (Popović 2015)
needs no tokenizer. ``tutorial_bleu`` reproduces the lowercased, tokenized BLEU that PyTorch tutorials report.
"""

from __future__ import annotations

import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def default_tokenize(refs: list[str], pretokenized: bool = False) -> str:
    """sacreBLEU tokenizer for these references (see the module docstring)."""
    if pretokenized:
        return "none"
    text = "".join(refs[:1000])
    letters = sum(ch.isalnum() for ch in text)
    return "char" if letters and len(_CJK.findall(text)) / letters > 0.3 else "13a"


def corpus_scores(hyps: list[str], refs: list[str], tokenize: str | None = None, pretokenized: bool = False
                  ) -> dict:
    """``{"bleu", "chrf", "bleu_signature", "chrf_signature"}`` of hypotheses against one reference each."""
    import sacrebleu

    if len(hyps) != len(refs):
        raise ValueError(f"got {len(hyps)} hypotheses but {len(refs)} references; they must be aligned")
    tokenize = tokenize or default_tokenize(refs, pretokenized)
    bleu, chrf = sacrebleu.BLEU(tokenize=tokenize), sacrebleu.CHRF()
    b, c = bleu.corpus_score(hyps, [refs]), chrf.corpus_score(hyps, [refs])
    return {"bleu": b.score, "chrf": c.score, "bleu_signature": str(bleu.get_signature()),
            "chrf_signature": str(chrf.get_signature())}


def tutorial_bleu(hyps: list[str], refs: list[str]) -> float:
    """Lowercased, tokenized BLEU as in the PyTorch seq2seq tutorials (``torchtext.data.metrics.bleu_score``).

    Both sides are lowercased and split by sacreBLEU's ``13a`` tokenizer (punctuation split from words, close to
    the tutorials' spaCy tokens), then scored as whitespace-tokenized text.
    """
    import sacrebleu

    bleu = sacrebleu.BLEU(tokenize="13a", lowercase=True)
    return bleu.corpus_score(hyps, [refs]).score


@dataclass
class Alignment:
    """Attention weights of one translation."""

    src_tokens: list[str]  # source pieces, length S
    tgt_tokens: list[str]  # output pieces, EOS last, length T
    weights: np.ndarray  # (T, S): row t is the attention of output step t over the source, summing to 1

    def plot(self, path: str | os.PathLike, title: str | None = None) -> Path:
        """Save the heatmap as a PNG (rows: output tokens, columns: source tokens)."""
        return plot_attention(self, path, title)


def _ascii_label(token: str) -> str:
    """A CJK token readable without a CJK font: numerals by value (万 -> 10000), others by code point."""
    if not _CJK.search(token):
        return token
    if len(token) == 1 and unicodedata.numeric(token, None) is not None:
        return f"{unicodedata.numeric(token):g}"
    return " ".join(f"U+{ord(ch):04X}" if _CJK.match(ch) else ch for ch in token)


def plot_attention(alignment: Alignment, path: str | os.PathLike, title: str | None = None) -> Path:
    """Write ``alignment`` as a heatmap PNG at ``path``.

    CJK labels use a CJK font when one is installed; without one, numerals show their value (二 -> 2, 万 -> 10000)
    and other characters their code point, rather than empty boxes.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    T, S = alignment.weights.shape
    fig, ax = plt.subplots(figsize=(max(4.0, 0.45 * S + 1.5), max(3.0, 0.4 * T + 1.2)))
    ax.imshow(alignment.weights, cmap="viridis", aspect="auto", vmin=0.0, vmax=1.0)
    ax.set_xticks(range(S))
    ax.set_yticks(range(T))
    labels = alignment.src_tokens + alignment.tgt_tokens
    font = None
    if any(_CJK.search(t) for t in labels):
        for name in ("Noto Sans CJK JP", "Noto Sans CJK SC", "IPAGothic", "IPAexGothic", "TakaoGothic",
                     "WenQuanYi Zen Hei", "Droid Sans Fallback"):
            if any(f.name == name for f in font_manager.fontManager.ttflist):
                font = name
                break
    xlabels, ylabels = alignment.src_tokens, alignment.tgt_tokens
    if font is None:  # no CJK glyphs: show the character with its number value or code point instead of boxes
        xlabels, ylabels = [_ascii_label(t) for t in xlabels], [_ascii_label(t) for t in ylabels]
    kw = {"fontfamily": font} if font else {}
    ax.set_xticklabels(xlabels, rotation=60, ha="right", **kw)
    ax.set_yticklabels(ylabels, **kw)
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    if title:
        ax.set_title(title, **kw)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
