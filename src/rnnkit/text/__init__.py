"""Text with recurrent networks: sentiment classification with word highlights, and language models that write.

* :class:`TextClassifier`: BiLSTM / BiGRU with attention (Lin et al. 2017) or max pooling; ``explain(text)``
  returns per-token weights.
* :class:`LanguageModel`: character / subword stacked LSTMs, weight tying, AWD-LSTM regularisation, truncated BPTT,
  streaming ``generate``.

Example:
    >>> from rnnkit.text import TextClassifier, LanguageModel
    >>> clf = TextClassifier(epochs=5).fit(texts, labels, valid=(dev_texts, dev_labels))
    >>> clf.explain("not good at all")
"""

from rnnkit.text.classifier import TextClassifier
from rnnkit.text.language_model import LanguageModel
from rnnkit.text.metrics import accuracy, confusion_matrix, lm_metrics, macro_f1
from rnnkit.text.tokenizers import CharTokenizer, SentencePieceTokenizer, WordTokenizer
from rnnkit.text.vocab import Vocabulary

__all__ = ["TextClassifier", "LanguageModel", "WordTokenizer", "CharTokenizer", "SentencePieceTokenizer",
           "Vocabulary", "accuracy", "macro_f1", "confusion_matrix", "lm_metrics"]
