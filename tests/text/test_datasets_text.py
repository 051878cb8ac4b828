from __future__ import annotations

import pytest

from rnnkit.datasets.text import read_classification, read_corpus


def test_tsv_csv_and_sst_formats(tmp_path):
    tsv = tmp_path / "a.tsv"
    tsv.write_text('id\ttext\tlabel\n1\ta "quoted" film\tpos\n2\tdull\tneg\n\n', encoding="utf-8")
    assert read_classification(tsv) == (['a "quoted" film', "dull"], ["pos", "neg"])
    csv = tmp_path / "a.csv"
    csv.write_text('label,text\npos,"great, really"\nneg,bad\n', encoding="utf-8")
    assert read_classification(csv) == (["great, really", "bad"], ["pos", "neg"])
    sst = tmp_path / "stsa.binary.dev"
    sst.write_text("1 a stirring film\n0 wo n't sit still .\n", encoding="utf-8")
    assert read_classification(sst) == (["a stirring film", "wo n't sit still ."], ["1", "0"])


def test_sst_files_from_the_shared_data(shared_data):
    texts, labels = read_classification(shared_data / "sst" / "stsa.binary.dev")
    assert len(texts) == 872 and set(labels) == {"0", "1"}
    texts, labels = read_classification(shared_data / "sst" / "stsa.fine.dev")
    assert len(texts) == 1101 and set(labels) == {"0", "1", "2", "3", "4"}


def test_bad_files_get_clear_errors(tmp_path):
    empty = tmp_path / "empty.tsv"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"data file .*empty.tsv is empty"):
        read_classification(empty)
    nolabel = tmp_path / "nolabel.tsv"
    nolabel.write_text("text\tscore\ngood\t1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"has no 'label' column \(columns: \['text', 'score'\]\)"):
        read_classification(nolabel)
    notext = tmp_path / "notext.csv"
    notext.write_text("sentence,label\ngood,1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"has no 'text' column"):
        read_classification(notext)
    noheader = tmp_path / "plain.txt"
    noheader.write_text("good film\nbad film\n", encoding="utf-8")
    with pytest.raises(ValueError, match="has no header with 'text' and 'label' columns"):
        read_classification(noheader)
    latin = tmp_path / "latin.tsv"
    latin.write_bytes("text\tlabel\ncaf\u00e9\tpos\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin.tsv is not UTF-8 \(byte 14, line 2"):
        read_classification(latin)
    with pytest.raises(OSError, match="does not exist"):
        read_classification(tmp_path / "missing.tsv")
    short = tmp_path / "short.tsv"
    short.write_text("text\tlabel\ngood\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"short.tsv:2 has 1 fields but the header has 2"):
        read_classification(short)


def test_corpus(tmp_path):
    p = tmp_path / "c.txt"
    p.write_bytes(b"\xef\xbb\xbfline one\r\nline two\n")
    assert read_corpus(p) == "line one\nline two\n"
    p.write_text("   \n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"corpus .*c.txt is empty"):
        read_corpus(p)
