"""Connected digits: utterances of 1-7 digits concatenated from one speaker's FSDD clips with short gaps
(seeded, generated in code). Train speakers george, jackson, lucas, nicolas; test speaker theo (unseen).

Reports WER and CER; with --streaming, a unidirectional model with causal normalisation, its streaming decode
(checked equal to the whole-utterance decode), latency per 100 ms chunk and real-time factor.
Goal: <= 5% WER on CPU within 10 minutes of training; streaming within 1.5 points of bidirectional.

    python benchmarks/speech/connected_digits.py --data $RNNKIT_DATA --max-time 10
    python benchmarks/speech/connected_digits.py --data $RNNKIT_DATA --max-time 10 --streaming
"""

from __future__ import annotations

import random

from common import (
    Timer,
    add_noise,
    augmentation_args,
    budget_train_config,
    data_dir,
    finish,
    parser,
    perturb_speeds,
    random_trim,
    setup,
    synthetic_voices,
)

TRAIN_SPEAKERS = ["george", "jackson", "lucas", "nicolas"]


def main() -> None:
    p = parser(__doc__, max_time=10.0)
    p.add_argument("--streaming", action="store_true", help="unidirectional model, streamed decoding")
    p.add_argument("--lookahead", type=int, default=0,
                   help="with --streaming: steps of future context after subsampling (one step = 30 ms here)")
    p.add_argument("--n-train", type=int, default=3000)
    p.add_argument("--n-test", type=int, default=300)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--speeds", default="0.9,1.0,1.1",
                   help="speed-perturbation factors; each training utterance gets one, drawn with the seed")
    augmentation_args(p, unit="utterances", synthetic="1-7 digit utterances")
    p.add_argument("--models", default=None, metavar="A,B,...",
                   help="train nothing: score these saved model folders (several: their ensemble) on the test "
                        "utterances of --seed")
    args = p.parse_args()
    setup(args)
    import numpy as np
    import torch

    from rnnkit.datasets.audio import connected_digits, load_fsdd
    from rnnkit.speech import DecoderConfig, FeatureConfig, ModelConfig, SpeechRecognizer

    root = data_dir(args, "fsdd")
    test = connected_digits(load_fsdd(root, ["theo"]), args.n_test, seed=10_000 + args.seed)
    if args.models:
        recs = [SpeechRecognizer.load(m) for m in args.models.split(",")]
        members = [rec.evaluate(test) for rec in recs] if len(recs) > 1 else []
        scores = (SpeechRecognizer.ensemble(recs) if len(recs) > 1 else recs[0]).evaluate(test)
        finish(args, {"task": "connected digits (1-7) from FSDD clips, test speaker theo", "models": args.models,
                      "n_test": len(test), **scores, "members_wer": [m["wer"] for m in members]})
        return
    rng = random.Random(args.seed)
    trim = (lambda w, sr: random_trim(w, sr, rng) if rng.random() < args.trim else w) if args.trim else None
    train = connected_digits(load_fsdd(root, TRAIN_SPEAKERS), args.n_train, seed=args.seed, transform=trim)
    train = perturb_speeds(train, args.speeds, args.seed)
    if args.noise:
        noise_rng = random.Random(args.seed + 1)
        train = [(add_noise(w, sr, noise_rng) if noise_rng.random() < args.noise else w, t, sr) for w, t, sr in train]
    if args.synthetic:
        from rnnkit.speech.synth import digit_strings

        train += synthetic_voices(digit_strings(args.synthetic, args.seed, 1, 7), 8000, args.seed)
    rec = SpeechRecognizer(
        FeatureConfig(sample_rate=8000, n_mels=40, normalize="causal" if args.streaming else "utterance"),
        ModelConfig(hidden_size=args.hidden, num_layers=args.layers, subsample=3, cell="lstm", dropout=0.2,
                    bidirectional=not args.streaming, lookahead=args.lookahead),
        DecoderConfig(beam_size=8, lexicon=True),
        train=budget_train_config(args, max_epochs=100),
        batch_size=32, valid_fraction=0.05)
    with Timer() as t:
        rec.fit(train)
    if args.save:
        rec.save(args.save)
    with Timer() as te:
        scores = rec.evaluate(test)
    results = {"task": "connected digits (1-7) from FSDD clips, test speaker theo", "streaming": args.streaming,
               "lookahead": args.lookahead,
               "n_train": len(train), "trim": args.trim, "noise": args.noise, "synthetic": args.synthetic, "n_test": len(test),
               "test_audio_minutes": round(sum(len(w) / sr for w, _, sr in test) / 60, 2), **scores,
               "train_seconds": round(t.seconds, 1), "train_cpu_seconds": round(t.cpu_seconds, 1), "eval_seconds": round(te.seconds, 1),
               "epochs": rec.fit_result_.epochs, "steps": rec.fit_result_.steps,
               "stopped": rec.fit_result_.stopped, "threads": torch.get_num_threads()}
    if args.streaming:
        chunk = 800  # 100 ms at 8 kHz
        same, lat, rtf = 0, [], []
        subset = test[:50]
        whole = rec.transcribe([w for w, _, _ in subset], sample_rate=8000)
        for (wav, _, _), ref in zip(subset, whole):
            s = rec.stream(sample_rate=8000)
            for i in range(0, len(wav), chunk):
                s.accept(wav[i:i + chunk])
            same += s.finish() == ref
            st = s.stats()
            lat.append(st["latency_ms_median"])
            rtf.append(st["rtf"])
        results.update({"stream_equals_whole_decode": f"{same}/{len(subset)}",
                        "stream_chunk_ms": 100, "stream_latency_ms_median": float(np.median(lat)),
                        "stream_rtf_median": float(np.median(rtf))})
    finish(args, results)


if __name__ == "__main__":
    main()
