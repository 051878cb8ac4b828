"""yesno smoke test: train on the first 31 files (Kaldi split), test on the last 29; goal 0% WER.

    python benchmarks/speech/yesno.py --data $RNNKIT_DATA --max-time 8
"""

from __future__ import annotations

from common import Timer, data_dir, finish, parser, setup


def main() -> None:
    p = parser(__doc__, max_time=8.0)
    p.add_argument("--epochs", type=int, default=60, help="epochs (the cosine schedule spans them)")
    args = p.parse_args()
    setup(args)
    from rnnkit.datasets.audio import load_yesno
    from rnnkit.speech import DecoderConfig, FeatureConfig, ModelConfig, SpeechRecognizer
    from rnnkit.train import TrainConfig

    train, test = load_yesno(data_dir(args, "yesno"))
    rec = SpeechRecognizer(
        FeatureConfig(sample_rate=8000, n_mels=40),
        ModelConfig(hidden_size=64, num_layers=2, subsample=4, cell="lstm", dropout=0.0),
        DecoderConfig(beam_size=4, lexicon=True),
        train=TrainConfig(max_epochs=args.epochs, max_time=args.max_time, lr=5e-3, warmup_steps=10, clip_grad_norm=5.0,
                          seed=args.seed, device=args.device, progress=False),
        batch_size=4, valid_fraction=0.0)
    with Timer() as t:
        rec.fit(train)
    scores = rec.evaluate(test)
    hyps = rec.transcribe([path for path, _ in test])
    errors = [f"{ref} -> {hyp}" for (_, ref), hyp in zip(test, hyps) if hyp != ref]
    finish(args, {"task": "yesno", "train_files": len(train), "test_files": len(test), **scores,
                  "train_seconds": round(t.seconds, 1), "train_cpu_seconds": round(t.cpu_seconds, 1), "epochs": rec.fit_result_.epochs,
                  "steps": rec.fit_result_.steps,
                  "final_train_loss": rec.fit_result_.history[-1].get("train_loss"), "errors": errors[:5]})


if __name__ == "__main__":
    main()
