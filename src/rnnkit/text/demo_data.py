"""Built-in demo text that the project generates itself (no download): sentiment sentences and a small play.

Both come from seeded templates, so every run sees the same text.

* :func:`sentiment_sentences`: short reviews whose label depends on the sentiment word *and* on negation
  ("the plot was not good" is negative), so a model has to read word order, and ``explain`` has something to show.
* :func:`play_text`: a dialogue in the layout of Tiny Shakespeare (``NAME:`` on its own line, then a speech),
  for the language-model demo.
"""

from __future__ import annotations

import random

_SUBJECTS = ["the movie", "the film", "the plot", "the acting", "the story", "the ending", "the music", "this show",
             "the cast", "the script", "the director's work", "the dialogue"]
_POSITIVE = ["good", "great", "wonderful", "brilliant", "moving", "funny", "charming", "superb", "delightful", "smart"]
_NEGATIVE = ["bad", "boring", "awful", "dull", "terrible", "silly", "weak", "tedious", "messy", "bland"]
_FILLERS = ["", "", "really ", "truly ", "quite ", "honestly "]
_TAILS = ["", "", " .", " !", " , i think .", " overall .", " from start to finish ."]


def sentiment_sentences(n: int = 800, seed: int = 0) -> tuple[list[str], list[str]]:
    """``n`` short reviews and their labels (``"positive"`` / ``"negative"``), about half each.

    A quarter of the sentences negate the sentiment word ("was not", "is n't", "never felt"), which flips the label.
    """
    rng = random.Random(seed)
    texts, labels = [], []
    for _ in range(n):
        positive = rng.random() < 0.5
        word = rng.choice(_POSITIVE if positive else _NEGATIVE)
        negated = rng.random() < 0.25
        subject = rng.choice(_SUBJECTS)
        filler = rng.choice(_FILLERS)
        if negated:
            verb = rng.choice(["was not", "was n't", "is not", "is n't", "never felt"])
            positive = not positive
        else:
            verb = rng.choice(["was", "is", "felt", "seemed"])
        text = f"{subject} {verb} {filler}{word}{rng.choice(_TAILS)}"
        texts.append(text)
        labels.append("positive" if positive else "negative")
    return texts, labels


_SPEAKERS = ["ROMEO", "JULIET", "NURSE", "FRIAR", "MERCUTIO", "TYBALT"]
_OPENERS = ["O", "Good", "Nay", "Ay", "Alas", "Come", "Peace", "Hark"]
_NOUNS = ["love", "night", "moon", "sword", "heart", "day", "star", "name", "rose", "grave", "friend", "house"]
_ADJS = ["sweet", "fair", "gentle", "dark", "bright", "cruel", "true", "noble", "wild", "soft"]
_VERBS = ["speak", "stay", "fly", "weep", "sleep", "swear", "wait", "rise", "burn", "sing"]


def _line(rng: random.Random) -> str:
    kind = rng.randrange(4)
    n, a, v = rng.choice(_NOUNS), rng.choice(_ADJS), rng.choice(_VERBS)
    if kind == 0:
        return f"{rng.choice(_OPENERS)}, {a} {n}, why dost thou {v}?"
    if kind == 1:
        return f"The {n} is {a}, and I must {v}."
    if kind == 2:
        return f"Thy {a} {n} shall {v} tonight."
    return f"I {v} for the {a} {rng.choice(_NOUNS)} of {n}."


def play_text(n_speeches: int = 400, seed: int = 0) -> str:
    """A generated play: ``n_speeches`` speeches of one to three lines, Tiny-Shakespeare layout."""
    rng = random.Random(seed)
    parts = []
    for _ in range(n_speeches):
        lines = [_line(rng) for _ in range(rng.randint(1, 3))]
        parts.append(f"{rng.choice(_SPEAKERS)}:\n" + "\n".join(lines) + "\n")
    return "\n".join(parts)
