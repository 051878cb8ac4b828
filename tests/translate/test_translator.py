import json
import warnings

import numpy as np
import pytest
import torch

from rnnkit.translate import Translator

SMALL = dict(embed_size=32, hidden_size=48, dropout=0.0, src_tokenizer="word", tgt_tokenizer="char", batch_size=32,
             lr=5e-3, warmup_steps=10, progress=False, num_threads=1)


@pytest.fixture(scope="module")
def fitted(corpus):
    torch.set_num_threads(1)
    en, ja, ten, tja = corpus
    return Translator(cell="gru", attention="general", input_feeding=False, epochs=6, **SMALL).fit(en, ja, valid=(ten[:20], tja[:20]))


def test_fit_learns_and_translates(fitted, corpus):
    _, _, ten, tja = corpus
    r = fitted.fit_result_
    assert r.epochs == 6 and r.history[-1]["val_loss"] < r.history[0]["val_loss"]
    out = fitted.translate(ten, beam_size=5)
    assert len(out) == len(ten) and all(isinstance(h, str) for h in out)
    assert fitted.evaluate(ten, tja, beam_size=5)["chrf"] > 12.0  # an untrained model scores about 2
    assert isinstance(fitted.translate("two thousand and twenty-four"), str)


@pytest.mark.parametrize("beam", [1, 5])
def test_translation_does_not_depend_on_batch_size(fitted, corpus, beam):
    _, _, ten, _ = corpus
    together = fitted.translate(ten, beam_size=beam, batch_size=64)
    one_by_one = fitted.translate(ten, beam_size=beam, batch_size=1)
    assert together == one_by_one


def test_save_load_round_trip(fitted, corpus, tmp_path):
    _, _, ten, _ = corpus
    fitted.save(tmp_path / "m")
    loaded = Translator.load(tmp_path / "m")
    for beam in (1, 4):
        assert loaded.translate(ten, beam_size=beam) == fitted.translate(ten, beam_size=beam)
    np.testing.assert_allclose(loaded.attention(ten[0]).weights, fitted.attention(ten[0]).weights, atol=1e-6)
    assert json.loads((tmp_path / "m" / "config.json").read_text())["translator"]["cell"] == "gru"


def test_evaluate_reports_bleu_chrf_and_signatures(fitted, corpus):
    _, _, ten, tja = corpus
    s = fitted.evaluate(ten, tja, beam_size=1)
    assert 0.0 <= s["bleu"] <= 100.0 and 0.0 <= s["chrf"] <= 100.0
    assert "tok:char" in s["bleu_signature"] and "nrefs:1" in s["bleu_signature"]
    assert s["chrf_signature"].startswith("nrefs:1")
    perfect = fitted.evaluate(ten, [h for h in fitted.translate(ten, beam_size=1)], beam_size=1)
    assert perfect["bleu"] == pytest.approx(100.0) and perfect["chrf"] == pytest.approx(100.0)


def test_attention_matrix_and_heatmap(fitted, corpus, tmp_path):
    _, _, ten, tja = corpus
    a = fitted.attention(ten[0])
    assert a.weights.shape == (len(a.tgt_tokens), len(a.src_tokens)) == (len(a.tgt_tokens), len(ten[0].split()))
    np.testing.assert_allclose(a.weights.sum(1), 1.0, atol=1e-5)
    forced = fitted.attention(ten[0], target=tja[0])
    assert forced.tgt_tokens == list(tja[0]) + ["</s>"]
    png = a.plot(tmp_path / "att.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_characters_and_empty_input_do_not_crash(fitted):
    out = fitted.translate(["☃ zebra 猫 two", ""], beam_size=3)
    assert len(out) == 2 and out[1] == ""


def test_sentencepiece_and_lstm_additive_end_to_end(corpus, tmp_path):
    en, ja, ten, _ = corpus
    tr = Translator(cell="lstm", attention="additive", embed_size=16, hidden_size=16, src_tokenizer="unigram",
                    tgt_tokenizer="bpe", src_vocab_size=60, tgt_vocab_size=40, tie_embeddings=True,
                    scheduled_sampling=0.2, label_smoothing=0.1, epochs=1, batch_size=64, progress=False,
                    num_threads=1).fit(en[:200], ja[:200])
    tr.save(tmp_path / "spm")
    assert Translator.load(tmp_path / "spm").translate(ten[:5], beam_size=2) == tr.translate(ten[:5], beam_size=2)


def test_bad_input_messages(fitted, corpus, tmp_path):
    en, ja, _, _ = corpus
    with pytest.raises(ValueError, match=r"source has 3 sentences but target has 2 sentences; parallel lists must be aligned"):
        Translator(**SMALL).fit(en[:3], ja[:2])
    with pytest.warns(UserWarning, match=r"skipped 21 sentence pair\(s\) with an empty side"):
        tr = Translator(epochs=1, **SMALL).fit(["", "one", "two", "three"] * 10 + ["four"], ["一", "", "二", "三"] * 10 + [""])
    assert tr.skipped_ == 21
    with pytest.warns(UserWarning, match=r"10 source sentence\(s\) longer than 4 tokens were truncated to 4"):
        Translator(max_src_len=4, epochs=1, **SMALL).fit(["one two three four five", "one"] * 10, ["一", "二"] * 10)
    with pytest.warns(UserWarning, match=r"1 source sentence\(s\) longer than 100 tokens were truncated"):
        fitted.translate(["one " * 150])
    with pytest.raises(ValueError, match="this Translator is not fitted yet: call .fit"):
        Translator().translate(["one"])
    with pytest.raises(ValueError, match="source must be a list of sentences, got a single string"):
        Translator(**SMALL).fit("one two", ["一"])
    with pytest.raises(ValueError, match="attention must be one of"):
        Translator(attention="multihead")


def test_incomplete_model_folder(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    (tmp_path / "m" / "tgt_tokenizer.bin").unlink()
    with pytest.raises(ValueError, match=r"model folder .*m is incomplete: missing tgt_tokenizer\.bin"):
        Translator.load(tmp_path / "m")
    (tmp_path / "m" / "model.safetensors").unlink()
    with pytest.raises(ValueError, match=r"is incomplete: missing model\.safetensors, tgt_tokenizer\.bin"):
        Translator.load(tmp_path / "m")
    with pytest.raises(ValueError, match=r"model folder .*nowhere does not exist"):
        Translator.load(tmp_path / "nowhere")


def test_no_warnings_on_clean_input(fitted, corpus):
    _, _, ten, _ = corpus
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted.translate(ten[:3])


def test_select_by_validation_bleu(corpus):
    en, ja, ten, tja = corpus
    tr = Translator(epochs=2, select_by="val_bleu", **SMALL).fit(en[:100], ja[:100], valid=(ten[:10], tja[:10]))
    assert [set(h) >= {"val_bleu", "val_loss"} for h in tr.fit_result_.history] == [True, True]
    assert tr.fit_result_.best_metric == max(h["val_bleu"] for h in tr.fit_result_.history)
    with pytest.raises(ValueError, match=r"select_by='val_bleu' needs valid=\(src, tgt\)"):
        Translator(select_by="val_bleu", **SMALL).fit(en[:10], ja[:10])
