"""SegRNN decoder speed: the broadcast step (``SegRNN._decode``) against the plain layer run one step over ``B * M``
rows with every window's state repeated M times (the straightforward form), side by side in one process.

Times one training step (forward, backward, AdamW) of a channel-independent SegRNN at batch 256, input 96,
segment 24, for hidden 128 / 512 and horizon 96 / 720; rounds alternate the two forms; medians are printed.

    python benchmarks/forecast/decoder_speed.py --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import rnnkit.forecast.models.segrnn as segrnn
from rnnkit.forecast.models import NetConfig
from rnnkit.forecast.network import ForecastModel
from rnnkit.forecast.probabilistic import OutputSpec

BROADCAST = segrnn.SegRNN._decode


def repeated(self, q, state):
    """The straightforward decoder: ``(B * M, 1, d)`` rows through ``self.rnn`` with each state repeated M times."""
    B, M, d = q.shape
    rep = type(state)(*[f.repeat_interleave(M, dim=1) for f in state])
    h, _ = self.rnn(q.reshape(B * M, 1, d), rep)
    return h.view(B, M, d)


def step_seconds(decode, hidden: int, horizon: int, batch: int, reps: int) -> float:
    segrnn.SegRNN._decode = decode
    L = 96
    cfg = NetConfig(model="segrnn", input_size=L, horizon=horizon, hidden_size=hidden, n_series=7, segment_length=24)
    torch.manual_seed(0)
    model = ForecastModel(cfg, OutputSpec("mae", ()), "last")
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    b = {"y": torch.randn(batch, L), "target": torch.randn(batch, horizon), "past": torch.zeros(batch, L, 0),
         "future": torch.zeros(batch, L + horizon, 0), "static": torch.zeros(batch, 0),
         "sid": torch.randint(0, 7, (batch,))}
    times = []
    for i in range(reps + 1):  # the first step warms up
        t = time.perf_counter()
        loss = model.loss(b)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i:
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--reps", type=int, default=7, help="timed steps per form and round")
    p.add_argument("--batch-size", type=int, default=256)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    for hidden in (128, 512):
        for horizon in (96, 720):
            pairs = [(step_seconds(repeated, hidden, horizon, args.batch_size, args.reps),
                      step_seconds(BROADCAST, hidden, horizon, args.batch_size, args.reps)) for _ in range(args.rounds)]
            old = statistics.median(a for a, _ in pairs)
            new = statistics.median(b for _, b in pairs)
            print(f"hidden {hidden:4d}  horizon {horizon:4d}:  repeated states {old * 1e3:8.1f} ms/step   "
                  f"broadcast {new * 1e3:8.1f} ms/step   speed-up {old / new:.2f}x", flush=True)
    segrnn.SegRNN._decode = BROADCAST


if __name__ == "__main__":
    main()
