import gzip

import pytest

from rnnkit.datasets.parallel import read_lines, read_parallel


def test_plain_and_gzip(tmp_path):
    (tmp_path / "a.en").write_text("hello\nworld\n", encoding="utf-8")
    (tmp_path / "a.ja.gz").write_bytes(gzip.compress("こんにちは\n世界\n".encode()))
    data = read_parallel(tmp_path / "a.en", tmp_path / "a.ja.gz")
    assert data.src == ["hello", "world"] and data.tgt == ["こんにちは", "世界"] and data.skipped == 0


def test_different_line_counts_name_both(tmp_path):
    (tmp_path / "a.en").write_text("a\nb\nc\n")
    (tmp_path / "a.ja").write_text("x\ny\n")
    with pytest.raises(ValueError, match=r"a\.en has 3 lines but .*a\.ja has 2 lines; parallel files must be "
                                         r"aligned \(one sentence pair per line\)"):
        read_parallel(tmp_path / "a.en", tmp_path / "a.ja")


def test_empty_lines_are_skipped_and_counted(tmp_path):
    (tmp_path / "a.en").write_text("a\n\nc\n  \ne\n")
    (tmp_path / "a.ja").write_text("x\ny\n\nw\nv\n")
    data = read_parallel(tmp_path / "a.en", tmp_path / "a.ja")
    assert data.src == ["a", "e"] and data.tgt == ["x", "v"] and data.skipped == 3


def test_non_utf8_names_file_and_byte_offset(tmp_path):
    (tmp_path / "bad.en").write_bytes(b"fine line\ncaf\xe9\n")
    with pytest.raises(ValueError, match=r"bad\.en is not valid UTF-8: byte 0xe9 at byte offset 13"):
        read_lines(tmp_path / "bad.en")
    (tmp_path / "bad.en.gz").write_bytes(gzip.compress(b"ok\n\xff\n"))
    with pytest.raises(ValueError, match=r"byte 0xff at byte offset 3 \(in the decompressed text\)"):
        read_lines(tmp_path / "bad.en.gz")


def test_missing_file_and_bom(tmp_path):
    with pytest.raises(OSError, match=r"cannot read .*nope\.en: no such file"):
        read_lines(tmp_path / "nope.en")
    (tmp_path / "bom.en").write_bytes("\ufeffhello\r\nworld".encode())
    assert read_lines(tmp_path / "bom.en") == ["hello", "world"]
