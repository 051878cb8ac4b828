"""Memory diagnostics: how far back can a recurrent layer see?

Two measurements, for any layer with the ``y, state = layer(x)`` interface:

* :func:`gradient_by_lag`: the norm of ``d y_T / d x_{T-k}`` against the lag ``k``, the quantity whose exponential
  decay is the vanishing-gradient problem (Bengio et al. 1994; Pascanu et al. 2013, Sec. 2). A vanilla RNN's curve
  falls like ``rho^k``; a gated cell whose forget / update gates stay open keeps it nearly flat.
* :func:`copy_task`: remember a symbol shown at the first step and name it after a delay of D steps. Each delay
  trains a fresh small model briefly; the longest delay reached with accuracy >= ``threshold`` is the memory span
  the cell can learn under that budget.

Gated cells only retain what their gates let through, and at torch.nn's default init the forget gate sits at
``sigmoid(0) = 1/2``, which forgets as fast as a vanilla RNN. :func:`chrono_init_` sets gate biases so that the
cell's time constants spread over ``1 .. max_lag`` (Tallec & Ollivier 2018, "Can recurrent neural networks warp
time?", chrono initialisation); a vanilla RNN has no gate to set, which is the point of the comparison.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from rnnkit.nn.cells import GRUCell, LSTMCell, RNNCell
from rnnkit.nn.layernorm_lstm import LayerNormLSTM, LayerNormLSTMCell
from rnnkit.nn.layers import GRU, LSTM, RNN
from rnnkit.nn.min_rnn import MinGRU, MinGRUCell, MinLSTM, MinLSTMCell
from rnnkit.nn.recurrent import Recurrent

# Names accepted by `make_layer` and `rnnkit inspect memory --cells`.
CELLS: dict[str, type[Recurrent]] = {"rnn": RNN, "lstm": LSTM, "gru": GRU, "layernorm_lstm": LayerNormLSTM,
                                     "mingru": MinGRU, "minlstm": MinLSTM}


def make_layer(name: str, input_size: int, hidden_size: int, chrono: int | None = None) -> Recurrent:
    """A fresh one-layer ``CELLS[name]`` layer; with ``chrono`` the gate biases get :func:`chrono_init_`."""
    if name not in CELLS:
        raise ValueError(f"unknown cell {name!r}; choose from {sorted(CELLS)}")
    layer = CELLS[name](input_size, hidden_size)
    return chrono_init_(layer, chrono) if chrono else layer


@torch.no_grad()
def chrono_init_(layer: Recurrent, max_lag: int) -> Recurrent:
    """Chrono initialisation (Tallec & Ollivier 2018) in place; returns ``layer``.

    The keep gate's bias is ``log(u)``, ``u ~ U(1, max_lag - 1)`` per unit, so ``sigmoid(bias)`` keeps memory for
    about ``u`` steps; an input gate, where the cell has one, gets the negative. Vanilla RNN cells are left alone.
    Gate layout: LSTM (i, f, g, o) f keeps; GRU (r, z, n) z keeps; minGRU (z, h~) z writes; minLSTM (f, i, h~).
    """
    if max_lag < 3:
        raise ValueError(f"chrono_init_ needs max_lag >= 3, got {max_lag}")
    for cell in layer.cells:
        if isinstance(cell, RNNCell):
            continue
        if not cell.bias:
            raise ValueError(f"chrono_init_ sets gate biases, but this {type(cell).__name__} has bias=False")
        H = cell.hidden_size
        b = torch.empty(H, device=cell.bias_ih.device).uniform_(1.0, max_lag - 1.0).log().to(cell.bias_ih.dtype)
        cell.bias_ih.zero_()
        if getattr(cell, "bias_hh", None) is not None:
            cell.bias_hh.zero_()
        if isinstance(cell, (LSTMCell, LayerNormLSTMCell)):
            cell.bias_ih[:H], cell.bias_ih[H:2 * H] = -b, b  # input gate shut, forget gate open
        elif isinstance(cell, GRUCell):
            cell.bias_ih[H:2 * H] = b  # update gate z keeps h
        elif isinstance(cell, MinGRUCell):
            cell.bias_ih[:H] = -b  # z writes the candidate; 1 - z keeps h
        elif isinstance(cell, MinLSTMCell):
            cell.bias_ih[:H], cell.bias_ih[H:2 * H] = b, -b
        else:
            raise ValueError(f"chrono_init_ does not know the gate layout of {type(cell).__name__}")
    return layer


def gradient_by_lag(layer: nn.Module, steps: int = 200, batch_size: int = 16, batches: int = 3, seed: int = 0
                    ) -> Tensor:
    """Mean ``|| d <v, y_T> / d x_{T-k} ||`` for ``k = 0 .. steps-1`` on standard-normal inputs.

    ``v`` is a random unit vector per sequence, so the value estimates the size of the Jacobian's rows without
    computing all of them. The layer runs in eval mode (no dropout / zoneout noise) and is restored afterwards.

    Args:
        layer: anything called as ``y, state = layer(x)`` with ``x (B, T, layer.input_size)``.
        steps: T, the sequence length (and the largest lag + 1).
        batch_size, batches: B and how many random batches to average.
        seed: seeds the inputs and projections.

    Returns:
        (steps,) float tensor on the CPU; entry k is the gradient norm at lag k.
    """
    if steps < 2:
        raise ValueError(f"gradient_by_lag needs steps >= 2, got {steps}")
    p = next(layer.parameters())
    gen = torch.Generator().manual_seed(seed)
    total = torch.zeros(steps, dtype=torch.float64)
    was_training = layer.training
    layer.eval()
    try:
        with torch.enable_grad():
            for _ in range(batches):
                x = torch.randn(batch_size, steps, layer.input_size, generator=gen).to(p)  # (B, T, F)
                x.requires_grad_(True)
                y, _ = layer(x)  # (B, T, D*H)
                v = torch.randn(batch_size, y.shape[-1], generator=gen).to(y)
                v = v / v.norm(dim=-1, keepdim=True)  # (B, D*H) unit rows
                (grad,) = torch.autograd.grad((y[:, -1] * v).sum(), x)  # (B, T, F)
                total += grad.norm(dim=-1).mean(0).flip(0).double().cpu()  # (T,) indexed by lag
    finally:
        layer.train(was_training)
    return (total / batches).float()


# ------------------------------------------------------------------------------------------------- copy task
@dataclass
class CopyTaskConfig:
    """Settings of the copy-over-a-delay task."""

    delays: tuple[int, ...] = (10, 30, 100)  # delays D tried in increasing order; stops at the first failure
    steps: int = 150  # Adam steps per delay, each delay from fresh weights
    hidden_size: int = 32  # H of the layer under test
    batch_size: int = 32  # training sequences per step
    symbols: int = 4  # alphabet size; chance accuracy is 1 / symbols
    lr: float = 1e-2  # Adam learning rate; gradients are clipped to norm 1
    threshold: float = 0.9  # accuracy on fresh sequences that counts as solved
    eval_size: int = 256  # fresh sequences scored after each delay

    def __post_init__(self):
        self.delays = tuple(int(d) for d in self.delays)
        if not self.delays or min(self.delays) < 1 or list(self.delays) != sorted(set(self.delays)):
            raise ValueError(f"delays must be increasing positive integers, got {self.delays}")
        if self.steps < 1 or self.hidden_size < 1 or self.batch_size < 1 or self.eval_size < 1:
            raise ValueError("steps, hidden_size, batch_size and eval_size must all be >= 1")
        if self.symbols < 2:
            raise ValueError(f"symbols must be >= 2, got {self.symbols}")
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")


@dataclass
class CopyResult:
    """Outcome for one cell: accuracy per attempted delay and the longest delay solved (0 when none)."""

    accuracy: dict[int, float] = field(default_factory=dict)  # delay -> accuracy on fresh sequences
    longest_solved: int = 0


def copy_batch(batch_size: int, delay: int, symbols: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """Sequences of ``delay + 1`` steps: a one-hot symbol at t=0, blanks, a 'recall' flag at the last step.

    Returns ``x (B, delay + 1, symbols + 1)`` and the targets ``(B,)``, read from the output at the last step.
    """
    s = torch.randint(0, symbols, (batch_size,), generator=gen)  # (B,)
    x = torch.zeros(batch_size, delay + 1, symbols + 1)
    x[torch.arange(batch_size), 0, s] = 1.0  # the symbol to remember
    x[:, -1, symbols] = 1.0  # the recall flag
    return x, s


def copy_task(build: Callable[[int, int], nn.Module], config: CopyTaskConfig | None = None, seed: int = 0
              ) -> CopyResult:
    """Train a fresh ``build(input_size, hidden_size)`` plus a linear read-out on the copy task for each delay.

    Every delay starts from new weights (seeded alike), so a longer delay is solved only if the training signal
    crosses D steps within the budget: exactly what vanishing gradients prevent. The delays run in increasing order
    and stop at the first one below ``threshold``.

    Args:
        build: returns a fresh layer (``y, state = layer(x)``) for the given sizes, e.g.
            ``lambda f, h: make_layer("lstm", f, h, chrono=100)``.
        config: task settings (defaults: :class:`CopyTaskConfig`).
        seed: seeds the weights and the data.
    """
    cfg = config or CopyTaskConfig()
    result = CopyResult()
    for delay in cfg.delays:
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        layer = build(cfg.symbols + 1, cfg.hidden_size)
        head = nn.Linear(cfg.hidden_size * getattr(layer, "num_directions", 1), cfg.symbols)
        params = list(layer.parameters()) + list(head.parameters())
        opt = torch.optim.Adam(params, lr=cfg.lr)
        layer.train()
        for _ in range(cfg.steps):
            x, s = copy_batch(cfg.batch_size, delay, cfg.symbols, gen)
            y, _ = layer(x)  # (B, T, H)
            loss = nn.functional.cross_entropy(head(y[:, -1]), s)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
        layer.eval()
        with torch.no_grad():
            x, s = copy_batch(cfg.eval_size, delay, cfg.symbols, gen)
            acc = (head(layer(x)[0][:, -1]).argmax(-1) == s).float().mean().item()
        result.accuracy[delay] = acc
        if acc < cfg.threshold:
            break
        result.longest_solved = delay
    return result


# ------------------------------------------------------------------------------------------ the whole report
@dataclass
class MemoryReport:
    """Per cell: the gradient-by-lag curve and the copy-task outcome."""

    steps: int  # sequence length of the gradient measurement
    gradients: dict[str, list[float]]  # cell -> gradient norm at lag 0 .. steps-1
    copy: dict[str, CopyResult]  # cell -> copy-task outcome (empty when skipped)
    chrono: bool  # whether gated cells used chrono initialisation

    def metrics(self, lags: Sequence[int] = (1, 10, 50, 100)) -> dict[str, float]:
        """Flat metrics: ``{cell}_grad_lag{k}``, ``{cell}_copy_longest_delay``, ``{cell}_copy_acc_d{D}``."""
        out: dict[str, float] = {}
        for name, g in self.gradients.items():
            for k in [k for k in lags if k < self.steps] + [self.steps - 1]:
                out[f"{name}_grad_lag{k}"] = g[k]
        for name, r in self.copy.items():
            out[f"{name}_copy_longest_delay"] = float(r.longest_solved)
            out.update({f"{name}_copy_acc_d{d}": a for d, a in r.accuracy.items()})
        return out


def memory_report(cells: Sequence[str] = ("rnn", "lstm", "gru"), steps: int = 200, hidden_size: int = 64,
                  copy: CopyTaskConfig | None = None, run_copy: bool = True, chrono: bool = True, seed: int = 0,
                  on_cell: Callable[[str], None] | None = None) -> MemoryReport:
    """Measure :func:`gradient_by_lag` (T = ``steps``, input 8 features) and :func:`copy_task` for each cell.

    Layers are fresh, seeded per cell (so the order of ``cells`` changes nothing); with ``chrono`` the gated ones
    use :func:`chrono_init_` with ``max_lag = steps`` for the gradients and the longest delay for the copy task.
    ``on_cell(name)`` is called before each cell (progress output).
    """
    unknown = [c for c in cells if c not in CELLS]
    if unknown or not cells:
        raise ValueError(f"unknown cell(s) {unknown or '(none given)'}; choose from {sorted(CELLS)}")
    copy = copy or CopyTaskConfig()
    grads: dict[str, list[float]] = {}
    results: dict[str, CopyResult] = {}
    for name in cells:
        if on_cell:
            on_cell(name)
        torch.manual_seed(seed)
        layer = make_layer(name, 8, hidden_size, chrono=max(steps, 3) if chrono else None)
        grads[name] = gradient_by_lag(layer, steps=steps, seed=seed).tolist()
        if run_copy:
            lag = max(max(copy.delays), 3) if chrono else None
            results[name] = copy_task(lambda f, h, n=name, m=lag: make_layer(n, f, h, chrono=m), copy, seed)
    return MemoryReport(steps=steps, gradients=grads, copy=results, chrono=chrono)


def decay_rate(gradients: Sequence[float], start: int = 1) -> float:
    """Geometric mean factor per step between lag ``start`` and the last lag with a nonzero gradient."""
    nz = [k for k in range(start, len(gradients)) if gradients[k] > 0]
    if len(nz) < 2:
        return 0.0
    a, b = nz[0], nz[-1]
    return math.exp((math.log(gradients[b]) - math.log(gradients[a])) / (b - a))
