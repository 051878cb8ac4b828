"""The speech benchmarks' speaker adaptation never normalises a test item with statistics of its own audio."""

from __future__ import annotations

import pytest


class Recorder:
    """A stand-in scorer that records what it was adapted to."""

    def __init__(self, seen=None):
        self.seen = seen

    def adapt(self, audio, sample_rate):
        return Recorder((list(audio), sample_rate))


@pytest.mark.parametrize("n", [2, 5, 8])
def test_each_half_is_adapted_on_the_other_half(speech_script, n):
    common = speech_script("common")
    test = [(f"wav{i}", "one", 8000) for i in range(n)]
    halves = common.cross_adapt(Recorder(), test)
    scored = sorted(i for _, idx in halves for i in idx)
    assert scored == list(range(n))  # every item scored exactly once
    for adapted, idx in halves:
        audio, rate = adapted.seen
        assert rate == 8000 and audio and not set(audio) & {test[i][0] for i in idx}
        assert len(audio) + len(idx) == n
