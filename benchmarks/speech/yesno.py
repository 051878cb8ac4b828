"""yesno smoke test: train on the first 31 files (Kaldi split), test on the last 29; goal 0% WER.

    python benchmarks/speech/yesno.py --data $RNNKIT_DATA --max-time 8
"""

from __future__ import annotations

import random

import numpy as np
from common import Timer, data_dir, finish, parser, perturb_speeds, setup


def words_by_energy(wav: np.ndarray, sr: int, n_words: int, pad: float = 0.1) -> list[tuple[int, int]] | None:
    """Sample spans ``[(start, end)]`` of the ``n_words`` spoken regions, by frame energy (10 ms frames); None if
    the count differs. Each span keeps ``pad`` seconds of the real background on both sides.
    """
    hop = sr // 100
    energy = np.array([np.sqrt(np.mean(wav[i:i + hop] ** 2)) for i in range(0, len(wav) - hop, hop)])
    loud = energy > 0.15 * energy.max()
    runs, start = [], None
    for t, on in enumerate(np.append(loud, False)):
        if on and start is None:
            start = t
        elif not on and start is not None:
            if runs and start - runs[-1][1] < 15:  # gaps under 150 ms are inside a word
                runs[-1] = (runs[-1][0], t)
            else:
                runs.append((start, t))
            start = None
    runs = [(a, b) for a, b in runs if b - a >= 8]  # drop clicks shorter than 80 ms
    if len(runs) != n_words:
        return None
    p = int(pad * 100)
    return [(max(0, a - p) * hop, min(len(energy), b + p) * hop) for a, b in runs]


def shuffled_word_files(train, n: int, seed: int, gate: float = 0.0, edges: float = 0.0,
                        fragments: float = 0.0) -> tuple[list[tuple[np.ndarray, str, int]], int]:
    """``(utterances, words cut)``: new 8-word utterances from the training words in random order, with the
    recordings' own silences.

    The Kaldi split puts every file whose first word is "no" in training (files sort by name), so a model can learn
    "the first word is no"; recombining the words removes that position cue. Each new utterance starts with the
    leading silence of a random training file, puts real between-word background between the words, and ends with a
    real trailing silence, so that "silence, then a word" is no longer always "no".

    ``gate``: share of the utterances whose silences (leading, between words, trailing) are turned down by a random
    20-40 dB, as a recording chain with a noise gate would leave them: some recordings hold stretches of near-digital
    silence (a 5th-percentile frame level near -80 dB FS against the usual -55 dB) that the model otherwise never sees.
    ``edges``: share of the utterances whose leading and trailing silences are cut to a random part of their length
    (possibly none), as when a recording starts right at the first word: every training file opens with 0.6 s or
    more of silence.
    ``fragments``: share of the utterances that open with the tail of a word (its last 100-250 ms, 6-20 dB down,
    not in the transcript), as when a recording is cut from a longer take just after a word ended: a fading vowel
    is not a word.
    """
    from rnnkit.speech import read_wav

    words, leads, gaps, trails = [], [], [], []
    for path, text in train:
        wav, sr = read_wav(path)
        wav = wav.numpy()
        spans = words_by_energy(wav, sr, len(text.split()))
        if spans is None:
            continue
        words += [(wav[a:b], t) for (a, b), t in zip(spans, text.split())]
        leads.append(wav[:spans[0][0]])
        trails.append(wav[spans[-1][1]:])
        gaps += [wav[b:a] for (_, b), (a, _) in zip(spans, spans[1:]) if a > b]
    # separate streams for the options, so that turning them off keeps the draws of the plain recombination
    rng, gate_rng, edge_rng = random.Random(seed), random.Random(seed + 7), random.Random(seed + 8)
    frag_rng = random.Random(seed + 9)
    out = []
    for _ in range(n):
        picks = [rng.choice(words) for _ in range(8)]
        quiet = 10 ** (-gate_rng.uniform(20, 40) / 20) if gate_rng.random() < gate else 1.0
        cut = edge_rng.random() < edges
        lead = rng.choice(leads)
        pieces = [(lead[len(lead) - int(edge_rng.random() * len(lead)):] if cut else lead) * quiet]
        if frag_rng.random() < fragments:
            word = frag_rng.choice(words)[0]
            tail = word[len(word) - min(int(frag_rng.uniform(0.1, 0.25) * sr), int(0.6 * len(word))):]
            pieces.insert(0, tail * 10 ** (-frag_rng.uniform(6, 20) / 20))
        for k, (w, _) in enumerate(picks):
            pieces += [w] + ([rng.choice(gaps) * quiet] if k < 7 and gaps else [])
        trail = rng.choice(trails)
        pieces.append((trail[:int(edge_rng.random() * len(trail))] if cut else trail) * quiet)
        out.append((np.concatenate(pieces).astype(np.float32), " ".join(t for _, t in picks), sr))
    return out, len(words)


def main() -> None:
    p = parser(__doc__, max_time=8.0)
    p.add_argument("--epochs", type=int, default=60, help="epochs (the cosine schedule spans them)")
    p.add_argument("--recombined-only", action="store_true", help="train on the recombined utterances alone")
    p.add_argument("--recombined", type=int, default=0,
                   help="add this many utterances recombined from the training words (see shuffled_word_files)")
    p.add_argument("--gate", type=float, default=0.0,
                   help="share of the recombined utterances with their silences turned down 20-40 dB "
                        "(see shuffled_word_files)")
    p.add_argument("--edges", type=float, default=0.0,
                   help="share of the recombined utterances with their leading / trailing silences cut short")
    p.add_argument("--fragments", type=float, default=0.0,
                   help="share of the recombined utterances that open with the untranscribed tail of a word")
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--speeds", default="1.0",
                   help="speed-perturbation factors; each recombined utterance gets one, drawn with the seed")
    p.add_argument("--seeds", default=None,
                   help="comma-separated seeds: train one model per seed (each as --seed would) and also score "
                        "their ensemble (SpeechRecognizer.ensemble)")
    p.add_argument("--kinds", default="bi",
                   help="comma-separated model kinds trained for each seed: bi (BiLSTM, per-utterance normalisation) "
                        "and streaming (unidirectional LSTM, causal normalisation); several: their ensemble too")
    p.add_argument("--time-masks", type=int, default=2, help="SpecAugment time masks per utterance (0: none)")
    p.add_argument("--freq-masks", type=int, default=2, help="SpecAugment frequency masks per utterance (0: none)")
    args = p.parse_args()
    setup(args)
    from rnnkit.datasets.audio import load_yesno
    from rnnkit.speech import DecoderConfig, FeatureConfig, ModelConfig, SpecAugmentConfig, SpeechRecognizer
    from rnnkit.train import TrainConfig

    train, test = load_yesno(data_dir(args, "yesno"))
    seeds = [int(x) for x in args.seeds.split(",")] if args.seeds else [args.seed]
    kinds = args.kinds.split(",")
    if not set(kinds) <= {"bi", "streaming"}:
        raise SystemExit(f"error: --kinds takes bi and / or streaming, got {args.kinds!r}")
    members, results = [], []
    for seed, kind in [(s, k) for s in seeds for k in kinds]:
        extra, n_words = shuffled_word_files(train, args.recombined, seed, args.gate, args.edges,
                                                 args.fragments) if args.recombined else ([], 0)
        extra = perturb_speeds(extra, args.speeds, seed + 1)
        rec = SpeechRecognizer(
            FeatureConfig(sample_rate=8000, n_mels=40, normalize="causal" if kind == "streaming" else "utterance"),
            ModelConfig(hidden_size=args.hidden, num_layers=2, subsample=4, cell="lstm", dropout=args.dropout,
                        bidirectional=kind == "bi"),
            DecoderConfig(beam_size=4, lexicon=True),
            augment=SpecAugmentConfig(freq_masks=args.freq_masks, time_masks=args.time_masks),
            train=TrainConfig(max_epochs=args.epochs, max_time=args.max_time, lr=5e-3, warmup_steps=10,
                              clip_grad_norm=5.0, ema_decay=args.ema, seed=seed, device=args.device,
                              progress=False),
            batch_size=4, valid_fraction=0.0)
        with Timer() as t:
            rec.fit(extra if args.recombined_only else list(train) + extra)
        members.append(rec)
        results.append({"seed": seed, "kind": kind, **score(rec, test), "train_seconds": round(t.seconds, 1),
                        "train_cpu_seconds": round(t.cpu_seconds, 1), "epochs": rec.fit_result_.epochs,
                        "steps": rec.fit_result_.steps,
                        "final_train_loss": rec.fit_result_.history[-1].get("train_loss")})
    out = {"task": "yesno", "train_files": len(train), "recombined_utterances": args.recombined, "gate": args.gate,
           "edges": args.edges, "fragments": args.fragments,
           "recombined_only": args.recombined_only, "words_cut": n_words, "test_files": len(test)}
    if len(members) == 1:
        out.update(results[0])
    else:
        out.update({"members": results, "ensemble": score(SpeechRecognizer.ensemble(members), test)})
    finish(args, out)


def score(rec, test) -> dict:
    """WER / CER of a recognizer (or ensemble) on the test files, and the first wrong transcripts."""
    from rnnkit.speech.recognizer import error_rates

    hyps = rec.transcribe([path for path, _ in test])  # once: the rates and the error list share it
    errors = [f"{ref} -> {hyp}" for (_, ref), hyp in zip(test, hyps) if hyp != ref]
    return {**error_rates([ref for _, ref in test], hyps), "errors": errors[:5]}


if __name__ == "__main__":
    main()
