"""Training run used by the kill -9 resume test: ``python resume_script.py OUT_DIR RESULT_DIR [SLEEP] [--wait]``.

Trains a small 2-layer LSTM with dropout (so the random state matters) with resume=True, then writes the final
(best) weights to RESULT_DIR. SLEEP seconds per batch slow the run down so the test can kill it mid-training.
With --wait, the process warms up (imports), prints "ready" and waits for a line on stdin before training, so the
test can overlap the slow start-up with other work.
"""

from __future__ import annotations

import sys
import time

import torch
import torch.nn.functional as F

from rnnkit.nn import LSTM
from rnnkit.train import TensorBatches, TrainConfig, Trainer, save_model_folder

MAX_STEPS = 24


class TinyLSTM(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = LSTM(3, 12, num_layers=2, dropout=0.3)
        self.head = torch.nn.Linear(12, 1)

    def forward(self, x):  # (B, T, 3) -> (B, 1)
        return self.head(torch.nn.functional.dropout(self.rnn(x)[0][:, -1], 0.2, self.training))


def main(out_dir: str, result_dir: str, sleep: float) -> None:
    torch.manual_seed(1)
    x = torch.randn(96, 10, 3)
    y = x[:, :, 0].cumsum(1)[:, -1:] / 3  # (96, 1)
    train = TensorBatches(x[:80], y[:80], batch_size=16, seed=3)  # 5 batches an epoch
    valid = TensorBatches(x[80:], y[80:], batch_size=16, shuffle=False)

    def loss_fn(model, batch):
        time.sleep(sleep)
        return F.mse_loss(model(batch[0]), batch[1])

    config = TrainConfig(max_steps=MAX_STEPS, max_epochs=None, lr=1e-2, warmup_steps=3, schedule="cosine",
                         grad_accum=2, eval_every=4, checkpoint_every=1, num_threads=1, seed=5, progress=False)
    model = TinyLSTM()
    Trainer(config, out_dir=out_dir).fit(model, train, valid=valid, loss_fn=loss_fn, model_config={"tiny": 1},
                                         resume=True)
    save_model_folder(result_dir, model, {"tiny": 1})


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--wait"]
    if "--wait" in sys.argv:
        torch.optim.AdamW([torch.zeros(1, requires_grad=True)])  # the optimizer's first use imports a lot
        print("ready", flush=True)
        sys.stdin.readline()
    main(args[0], args[1], float(args[2]) if len(args) > 2 else 0.0)
