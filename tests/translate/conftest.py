"""The translation tests' corpus: generated English number words -> Japanese numerals, with held-out numbers."""

import pytest

from rnnkit.translate import number_corpus


@pytest.fixture(scope="session")
def corpus():
    """``(train_en, train_ja, test_en, test_ja)``: 400 training pairs and 40 numbers not among them."""
    en, ja, seen = number_corpus(400, max_value=9999, seed=0)
    ten, tja, _ = number_corpus(40, max_value=9999, seed=1, exclude=set(seen))
    return en, ja, ten, tja
