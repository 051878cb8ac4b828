"""Learning-rate schedules: warm-up, cosine, constant and reduce-on-plateau give the expected rates."""

from __future__ import annotations

import math

import pytest

from rnnkit.train import Schedule, TrainConfig


def test_warmup_then_cosine():
    s = Schedule(TrainConfig(lr=1.0, warmup_steps=4, min_lr_ratio=0.1, schedule="cosine"), total_steps=14)
    assert [s.lr(i) for i in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert s.lr(4) == pytest.approx(1.0)
    assert s.lr(9) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))  # half way: 0.55
    assert s.lr(14) == pytest.approx(0.1) and s.lr(100) == pytest.approx(0.1)  # the floor, then it stays


def test_cosine_follows_the_clock_when_the_time_budget_ends_first():
    # 10 steps of 100 would be 9% through, but 30 of 60 seconds is half way: the clock wins
    s = Schedule(TrainConfig(lr=1.0, max_time=1.0, schedule="cosine"), total_steps=100)
    assert s.lr(10, seconds=30.0) == pytest.approx(0.5)
    assert s.lr(50, seconds=6.0) == pytest.approx(0.5)  # and the steps win when they are further along
    assert s.lr(10, seconds=90.0) == pytest.approx(0.0)  # past the budget: the floor
    # on course to finish its 100 steps well within the minute: the rates do not depend on the clock
    steps_only = Schedule(TrainConfig(lr=1.0, schedule="cosine"), total_steps=100)
    assert s.lr(1, seconds=0.1) == s.lr(1, seconds=0.3) == steps_only.lr(1)
    assert s.lr(60, seconds=20.0) == s.lr(60, seconds=30.0) == steps_only.lr(60)
    # max_time alone is a valid length for cosine
    alone = Schedule(TrainConfig(lr=1.0, max_epochs=None, max_time=2.0, schedule="cosine"), total_steps=None)
    assert alone.lr(0, seconds=0.0) == pytest.approx(1.0) and alone.lr(999, seconds=60.0) == pytest.approx(0.5)


def test_constant_after_warmup():
    s = Schedule(TrainConfig(lr=0.5, warmup_steps=2, schedule="constant"), total_steps=10)
    assert [s.lr(i) for i in range(5)] == [0.25, 0.5, 0.5, 0.5, 0.5]


def test_plateau_reduces_after_patience_and_respects_the_floor():
    s = Schedule(TrainConfig(lr=1.0, schedule="plateau", plateau_patience=1, plateau_factor=0.5, min_lr_ratio=0.2),
                 total_steps=None)
    lrs = []
    for value in [3.0, 2.0, 2.5, 2.5, 2.1, 2.2, 1.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0]:
        s.observe(value)
        lrs.append(s.lr(10))
    # two stalls in a row (patience 1) halve the rate; an improvement resets the count
    assert lrs == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2, 0.2, 0.2, 0.2, 0.2]
    again = Schedule(s.config, None)
    again.load_state_dict(s.state_dict())
    assert again.lr(10) == s.lr(10) and again.state_dict() == s.state_dict()


def test_plateau_in_max_mode():
    s = Schedule(TrainConfig(lr=1.0, schedule="plateau", plateau_patience=0, mode="max"), total_steps=None)
    for value in [0.1, 0.2, 0.3]:
        s.observe(value)
    assert s.lr(0) == 1.0
    s.observe(0.25)
    assert s.lr(0) == 0.5
