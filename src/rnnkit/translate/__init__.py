"""Machine translation: tokenizer -> bidirectional encoder / attention decoder -> greedy and beam search -> BLEU.

``Translator`` is the task object (fit, translate, evaluate, attention, save / load); the numbers corpus
(English number words -> Japanese numerals) is built in for demos and tests.
"""

from rnnkit.translate.config import TranslatorConfig
from rnnkit.translate.metrics import Alignment, corpus_scores, plot_attention, tutorial_bleu
from rnnkit.translate.model import Seq2Seq
from rnnkit.translate.numbers import english_number, japanese_number, number_corpus
from rnnkit.translate.search import Hypothesis, beam_search, greedy_search, length_penalty
from rnnkit.translate.tokenizer import Tokenizer
from rnnkit.translate.translator import Translator

__all__ = ["Translator", "TranslatorConfig", "Seq2Seq", "Tokenizer", "Alignment", "Hypothesis", "beam_search",
           "greedy_search", "length_penalty", "corpus_scores", "tutorial_bleu", "plot_attention",
           "english_number", "japanese_number", "number_corpus"]
