"""FSDD isolated digits, speaker-independent: train on george, jackson, lucas, nicolas; test on theo (unseen).

Accuracy = the decoded transcript (beam search restricted to the ten digit words) equals the digit word; also
reported: greedy decoding without the lexicon, and closed-set accuracy (the digit word with the highest CTC
likelihood, ``SpeechRecognizer.score``). Goal >= 97%.

    python benchmarks/speech/fsdd_isolated.py --data $RNNKIT_DATA --max-time 12

``--models`` scores saved recognizers instead, e.g. the bidirectional + streaming pair of
``connected_digits.py --pair DIR`` (trained on utterances of 1-7 digits built from the same four training
speakers). Those utterances start and end with 0.1 s of silence (``make_connected``'s ``edge``), so
``--pad 0.1`` gives each test clip the same silence before and after, making it a one-digit utterance of the
kind the pair was trained on:

    python benchmarks/speech/fsdd_isolated.py --data $RNNKIT_DATA --models DIR/bi,DIR/streaming --pad 0.1
"""

from __future__ import annotations

import random

from common import (
    Timer,
    adapted_scores,
    add_burst,
    add_noise,
    augmentation_args,
    budget_train_config,
    cross_adapt,
    data_dir,
    finish,
    load_saved,
    parser,
    random_trim,
    random_volume,
    score_saved,
    setup,
    synthetic_voices,
)

TRAIN_SPEAKERS = ["george", "jackson", "lucas", "nicolas"]


def main() -> None:
    p = parser(__doc__, max_time=12.0)
    p.add_argument("--speeds", default="0.9,1.0,1.1", help="speed-perturbation factors for the training clips")
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--streaming", action="store_true",
                   help="unidirectional model with causal normalisation (as streaming needs)")
    augmentation_args(p, unit="copies", synthetic="digit clips")
    p.add_argument("--models", default=None, metavar="A,B,...",
                   help="train nothing: score these saved model folders (several: their ensemble) on theo")
    p.add_argument("--tta", default=None, metavar="F,F,...",
                   help="with --models: also score each clip played at these speeds (e.g. 0.9,1.0,1.1) and sum "
                        "the closed-set scores (test-time augmentation)")
    p.add_argument("--pad", type=float, default=0.0, metavar="SECONDS",
                   help="silence added before and after every test clip (0.1 matches connected_digits.py's "
                        "utterances)")
    args = p.parse_args()
    setup(args)
    import torch

    from rnnkit.datasets.audio import load_fsdd
    from rnnkit.speech import (
        DecoderConfig,
        FeatureConfig,
        ModelConfig,
        SpecAugmentConfig,
        SpeechRecognizer,
        read_wav,
    )
    from rnnkit.speech.audio import speed_perturb

    root = data_dir(args, "fsdd")
    train = load_fsdd(root, TRAIN_SPEAKERS)
    test = padded_clips(load_fsdd(root, ["theo"]), args.pad)
    if args.models:
        scorer = load_saved(args.models, args.combine)
        scores, members = score_saved(scorer, test)
        closed = closed_set_accuracy(scorer, test)
        tta = {}
        if args.tta:
            tta = {"tta_speeds": args.tta, "accuracy_closed_set_tta": closed_set_accuracy(
                scorer, test, [float(f) for f in args.tta.split(",")])}
        finish(args, {**tta, "task": "fsdd isolated digits, test theo", "models": args.models, "test_clips": len(test),
                      "pad_seconds": args.pad, "accuracy": scores["sentence_accuracy"],
                      "accuracy_closed_set_ctc_score": closed,
                      "wer": scores["wer"], "cer": scores["cer"],
                      "members_accuracy": [m["sentence_accuracy"] for m in members]}
               | (adapted_accuracy(scorer, test) if args.adapt else {}))
        return
    speeds = [float(s) for s in args.speeds.split(",")]
    pairs, rng = [], random.Random(args.seed)
    noise_rng, volume_rng = random.Random(args.seed + 1), random.Random(args.seed + 2)
    burst_rng = random.Random(args.seed + 3)
    for path, text in train:
        wav, sr = read_wav(path)
        for f in speeds:
            w = wav if f == 1.0 else speed_perturb(wav, f, sr)
            w = random_trim(w, sr, rng) if rng.random() < args.trim else w
            w = add_burst(w, sr, burst_rng, args.burst_gap) if args.bursts and burst_rng.random() < args.bursts else w
            w = add_noise(w, sr, noise_rng) if noise_rng.random() < args.noise else w
            pairs.append((random_volume(w, volume_rng) if volume_rng.random() < args.volume else w, text, sr))
    if args.synthetic:
        from rnnkit.datasets.audio import DIGITS

        pairs += synthetic_voices([DIGITS[i % 10] for i in range(args.synthetic)], 8000, args.seed)
    rec = SpeechRecognizer(
        FeatureConfig(sample_rate=8000, n_mels=40, normalize="causal" if args.streaming else "utterance"),
        ModelConfig(hidden_size=args.hidden, num_layers=args.layers, subsample=2, cell="lstm", dropout=0.2,
                    bidirectional=not args.streaming),
        DecoderConfig(beam_size=8, lexicon=True),
        augment=SpecAugmentConfig(warp=args.warp),
        train=budget_train_config(args, max_epochs=60),
        batch_size=32, valid_fraction=0.05)
    with Timer() as t:
        rec.fit(pairs)
    if args.save:
        rec.save(args.save)
    with Timer() as te:
        scores = rec.evaluate(test)
    closed = closed_set_accuracy(rec, test)
    # robustness: the same clips with 100 ms of faint white noise (std 0.001, about -60 dB FS) before and after
    gen = torch.Generator().manual_seed(0)
    padded = []
    for wav, text, sr in test:
        faint = [torch.randn(800, generator=gen) * 1e-3 for _ in range(2)]
        padded.append((torch.cat([faint[0], wav, faint[1]]), text, sr))
    padded_acc = rec.evaluate(padded)["sentence_accuracy"]
    rec.decoder = DecoderConfig()
    rec._build_decoding()
    greedy = rec.evaluate(test)
    finish(args, {"task": "fsdd isolated digits, train george+jackson+lucas+nicolas, test theo",
                  "train_clips": len(train), "train_utterances_with_speed_perturbation": len(pairs),
                  "synthetic_clips": args.synthetic, "warp": args.warp, "bursts": args.bursts, "burst_gap": args.burst_gap, "streaming": args.streaming,
                  "test_clips": len(test), "pad_seconds": args.pad, "accuracy": scores["sentence_accuracy"],
                  "accuracy_greedy_no_lexicon": greedy["sentence_accuracy"],
                  "accuracy_closed_set_ctc_score": closed, "accuracy_noise_padded": padded_acc, "wer": scores["wer"],
                  "cer": scores["cer"], "train_seconds": round(t.seconds, 1), "train_cpu_seconds": round(t.cpu_seconds, 1), "eval_seconds": round(te.seconds, 1),
                  "epochs": rec.fit_result_.epochs, "steps": rec.fit_result_.steps,
                  "stopped": rec.fit_result_.stopped, "threads": torch.get_num_threads()}
           | (adapted_accuracy(rec, test) if args.adapt else {}))


def padded_clips(clips: list, seconds: float) -> list[tuple]:
    """[(wav path, text)] -> [(waveform, text, sample rate)], with ``seconds`` of digital silence each side."""
    import torch

    from rnnkit.speech import read_wav

    out = []
    for path, text in clips:
        wav, sr = read_wav(path)
        silence = torch.zeros(int(round(seconds * sr)))
        out.append((torch.cat([silence, wav, silence]), text, sr))
    return out


def adapted_accuracy(scorer, test: list[tuple]) -> dict:
    """Accuracy (decoded, and closed set) with speaker adaptation that never uses a clip's own audio
    (``common.cross_adapt``)."""
    scores = adapted_scores(scorer, test)
    closed = sum(closed_set_accuracy(a, [test[i] for i in idx]) * len(idx) for a, idx in cross_adapt(scorer, test))
    return {"adapted_accuracy": scores["sentence_accuracy"], "adapted_accuracy_closed_set_ctc_score": closed / len(test),
            "adapted_members_accuracy": scores["members_sentence_accuracy"]}


def closed_set_accuracy(scorer, test: list[tuple], speeds: list[float] | None = None) -> float:
    """Share of ``test`` clips (waveform, text, rate) whose digit word has the highest CTC likelihood under
    ``scorer``, a recognizer or an ensemble (the mean log-likelihood over its members); with ``speeds``, the
    log-likelihoods of the clip played at each speed are summed (test-time augmentation)."""
    import torch

    from rnnkit.datasets.audio import DIGITS
    from rnnkit.speech.audio import speed_perturb

    def score(w, sr):
        clips = [w if f == 1.0 else speed_perturb(torch.as_tensor(w), f, sr) for f in (speeds or [1.0])]
        return sum(scorer.score(c, DIGITS, sr) for c in clips)

    return sum(DIGITS[int(score(w, sr).argmax())] == t for w, t, sr in test) / len(test)


if __name__ == "__main__":
    main()
