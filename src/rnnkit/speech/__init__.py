"""Speech recognition with recurrent networks and CTC: wav -> log-mel -> (Bi)LSTM -> CTC decoding -> text.

Example:
    >>> from rnnkit.speech import SpeechRecognizer
    >>> rec = SpeechRecognizer().fit(pairs)            # doctest: +SKIP
    >>> rec.transcribe("utterance.wav"), rec.evaluate(test_pairs)
"""

from rnnkit.speech.alphabet import Alphabet, normalize_text
from rnnkit.speech.audio import read_wav, resample, write_wav
from rnnkit.speech.decode import DecoderConfig, Lexicon, beam_search, greedy_decode
from rnnkit.speech.features import FeatureConfig, SpecAugmentConfig, features, log_mel, mel_filterbank
from rnnkit.speech.lm import CharNGram, WordNGram
from rnnkit.speech.model import AcousticModel, ModelConfig, ctc_loss
from rnnkit.speech.recognizer import SpeechRecognizer

__all__ = ["SpeechRecognizer", "FeatureConfig", "ModelConfig", "DecoderConfig", "SpecAugmentConfig", "Alphabet",
           "AcousticModel", "CharNGram", "WordNGram", "Lexicon", "read_wav", "write_wav", "resample", "log_mel",
           "features", "mel_filterbank", "greedy_decode", "beam_search", "ctc_loss", "normalize_text"]
