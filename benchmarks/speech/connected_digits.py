"""Connected digits: utterances of 1-7 digits concatenated from one speaker's FSDD clips with short gaps
(seeded, generated in code). Train speakers george, jackson, lucas, nicolas; test speaker theo (unseen).

Reports WER and CER; with --streaming, a unidirectional model with causal normalisation, its streaming decode
(checked equal to the whole-utterance decode), latency per 100 ms chunk and real-time factor.
Goal: <= 5% WER on CPU within 10 minutes of training; streaming within 1.5 points of bidirectional.

    python benchmarks/speech/connected_digits.py --data $RNNKIT_DATA --max-time 10
    python benchmarks/speech/connected_digits.py --data $RNNKIT_DATA --max-time 10 --streaming
    python benchmarks/speech/connected_digits.py --data $RNNKIT_DATA --max-time 10 --threads 1 --pair DIR   # both + ensemble
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
    data_dir,
    finish,
    load_saved,
    parser,
    perturb_speeds,
    random_trim,
    random_volume,
    score_saved,
    setup,
    synthetic_voices,
)

TRAIN_SPEAKERS = ["george", "jackson", "lucas", "nicolas"]


def main() -> None:
    p = parser(__doc__, max_time=10.0)
    p.add_argument("--streaming", action="store_true", help="unidirectional model, streamed decoding")
    p.add_argument("--lookahead", type=int, default=0,
                   help="with --streaming: steps of future context after subsampling (one step = 30 ms here)")
    p.add_argument("--normalize", choices=["utterance", "causal"], default=None,
                   help="feature normalisation (default: causal with --streaming, else utterance); the streamed "
                        "decode needs causal")
    p.add_argument("--no-volume-perturbation", action="store_true",
                   help="turn off the recogniser's volume perturbation (it applies to causal normalisation only)")
    p.add_argument("--n-train", type=int, default=3000)
    p.add_argument("--n-test", type=int, default=300)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--speeds", default="0.9,1.0,1.1",
                   help="speed-perturbation factors; each training utterance gets one, drawn with the seed")
    augmentation_args(p, unit="utterances", synthetic="1-7 digit utterances")
    p.add_argument("--pair", default=None, metavar="DIR",
                   help="train a bidirectional and a streaming model side by side (two processes, --threads each) "
                        "within --max-time, save them in DIR/bi and DIR/streaming, and score their ensemble")
    p.add_argument("--models", default=None, metavar="A,B,...",
                   help="train nothing: score these saved model folders (several: their ensemble) on the test "
                        "utterances of --seed")
    args = p.parse_args()
    setup(args)
    import numpy as np
    import torch

    from rnnkit.datasets.audio import connected_digits, load_fsdd
    from rnnkit.speech import DecoderConfig, FeatureConfig, ModelConfig, SpecAugmentConfig, SpeechRecognizer

    root = data_dir(args, "fsdd")
    test = connected_digits(load_fsdd(root, ["theo"]), args.n_test, seed=10_000 + args.seed)
    if args.pair:
        with Timer() as t:
            members = train_pair(args.pair)
        args.models = ",".join(m["save"] for m in members)
    if args.models:
        scorer = load_saved(args.models, args.combine)
        scores, members = score_saved(scorer, test)
        finish(args, {"task": "connected digits (1-7) from FSDD clips, test speaker theo", "models": args.models,
                      "n_test": len(test), **scores, "members_wer": [m["wer"] for m in members]}
               | ({"adapted": adapted_scores(scorer, test)} if args.adapt else {})
               | ({"pair_train_seconds": round(t.seconds, 1)} if args.pair else {}))
        return
    normalize = args.normalize or ("causal" if args.streaming else "utterance")
    rng = random.Random(args.seed)
    burst_rng = random.Random(args.seed + 3)

    def clip_transform(w, sr):  # per clip, before the clips are joined
        w = random_trim(w, sr, rng) if args.trim and rng.random() < args.trim else w
        return add_burst(w, sr, burst_rng, args.burst_gap) if args.bursts and burst_rng.random() < args.bursts else w

    transform = clip_transform if args.trim or args.bursts else None
    train = connected_digits(load_fsdd(root, TRAIN_SPEAKERS), args.n_train, seed=args.seed, transform=transform)
    train = perturb_speeds(train, args.speeds, args.seed)
    if args.noise:
        noise_rng = random.Random(args.seed + 1)
        train = [(add_noise(w, sr, noise_rng) if noise_rng.random() < args.noise else w, t, sr) for w, t, sr in train]
    if args.volume:
        volume_rng = random.Random(args.seed + 2)
        train = [(random_volume(w, volume_rng) if volume_rng.random() < args.volume else w, t, sr)
                 for w, t, sr in train]
    if args.synthetic:
        from rnnkit.speech.synth import digit_strings

        train += synthetic_voices(digit_strings(args.synthetic, args.seed, 1, 7), 8000, args.seed)
    rec = SpeechRecognizer(
        FeatureConfig(sample_rate=8000, n_mels=40, normalize=normalize),
        ModelConfig(hidden_size=args.hidden, num_layers=args.layers, subsample=3, cell="lstm", dropout=0.2,
                    bidirectional=not args.streaming, lookahead=args.lookahead),
        DecoderConfig(beam_size=8, lexicon=True),
        augment=SpecAugmentConfig(volume=None if args.no_volume_perturbation else SpecAugmentConfig().volume,
                                  warp=args.warp),
        train=budget_train_config(args, max_epochs=100),
        batch_size=32, valid_fraction=0.05)
    with Timer() as t:
        rec.fit(train)
    if args.save:
        rec.save(args.save)
    with Timer() as te:
        scores = rec.evaluate(test)
    results = {"task": "connected digits (1-7) from FSDD clips, test speaker theo", "streaming": args.streaming,
               "lookahead": args.lookahead, "normalize": normalize,
               "n_train": len(train), "trim": args.trim, "noise": args.noise, "volume": args.volume, "warp": args.warp, "bursts": args.bursts, "burst_gap": args.burst_gap, "synthetic": args.synthetic, "n_test": len(test),
               "test_audio_minutes": round(sum(len(w) / sr for w, _, sr in test) / 60, 2), **scores,
               "train_seconds": round(t.seconds, 1), "train_cpu_seconds": round(t.cpu_seconds, 1), "eval_seconds": round(te.seconds, 1),
               "epochs": rec.fit_result_.epochs, "steps": rec.fit_result_.steps,
               "stopped": rec.fit_result_.stopped, "threads": torch.get_num_threads()}
    if args.streaming and normalize == "causal":
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
    if args.adapt:
        results["adapted"] = adapted_scores(rec, test)
    finish(args, results)


def train_pair(folder: str) -> list[dict]:
    """Run this script twice at once, ``--save FOLDER/bi`` and ``--streaming --save FOLDER/streaming``, with the
    other arguments as given; returns their result records. The two architectures err on different utterances, so
    their ensemble beats either; one thread each, they share a 2-core CPU for the same wall-clock budget."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    given, argv, i = sys.argv[1:], [], 0
    while i < len(given):  # the same arguments without --pair and --out (and their values)
        if given[i] in ("--pair", "--out"):
            i += 2
            continue
        if not given[i].startswith(("--pair=", "--out=")):
            argv.append(given[i])
        i += 1
    runs = {}
    for name, extra in (("bi", []), ("streaming", ["--streaming"])):
        out = Path(folder) / f"{name}.json"
        cmd = [sys.executable, __file__, *argv, *extra, "--save", str(Path(folder) / name), "--out", str(out)]
        runs[name] = (subprocess.Popen(cmd, stdout=subprocess.DEVNULL), out)
    results = []
    for name, (proc, out) in runs.items():
        if proc.wait() != 0:
            raise SystemExit(f"error: the {name} model's run failed (exit {proc.returncode}); see its output above")
        results.append({**json.loads(out.read_text()), "save": str(Path(folder) / name)})
    return results


if __name__ == "__main__":
    main()
