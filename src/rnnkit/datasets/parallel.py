"""Read line-aligned parallel text (``train.en`` / ``train.ja``), plain or gzip, with checks that teach.

* Files are read as strict UTF-8; an invalid byte raises ``ValueError`` naming the file and the byte offset
  (counted in the decompressed text for ``.gz`` files).
* Source and target must have the same number of lines; the error names both counts.
* Pairs where either side is empty (or only whitespace) are skipped and counted in ``ParallelText.skipped``.

Example:
    >>> data = read_parallel("train.en", "train.ja")      # doctest: +SKIP
    >>> len(data.src), data.skipped                       # doctest: +SKIP
    (50000, 0)
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path

_GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class ParallelText:
    """Aligned sentence pairs read from two files."""

    src: list[str]  # source sentences, surrounding whitespace stripped
    tgt: list[str]  # target sentences, same length as src
    skipped: int  # line pairs dropped because one side (or both) was empty


def read_text_bytes(path: str | os.PathLike) -> bytes:
    """The bytes of ``path``, gunzipped when the file starts with the gzip magic number."""
    path = Path(path)
    if not path.is_file():
        raise OSError(f"cannot read {path}: no such file")
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as e:
            raise OSError(f"{path} looks gzipped but cannot be decompressed: {e}") from None
    return raw


def read_lines(path: str | os.PathLike) -> list[str]:
    """Lines of a UTF-8 text file (plain or gzip), without line endings; a BOM at the start is dropped.

    Raises:
        ValueError: naming the file and the byte offset of the first byte that is not valid UTF-8.
    """
    raw = read_text_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        suffix = " (in the decompressed text)" if Path(path).read_bytes()[:2] == _GZIP_MAGIC else ""
        raise ValueError(f"{path} is not valid UTF-8: byte {raw[e.start]:#04x} at byte offset {e.start}{suffix}; "
                         "convert it first, e.g. iconv -f LATIN1 -t UTF-8") from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    return [line.rstrip("\r") for line in lines]


def pair_lines(src: list[str], tgt: list[str], src_name: str = "source", tgt_name: str = "target",
               unit: str = "lines") -> ParallelText:
    """Check the counts match, strip whitespace and skip pairs with an empty side (``unit`` names the items)."""
    if len(src) != len(tgt):
        raise ValueError(f"{src_name} has {len(src)} {unit} but {tgt_name} has {len(tgt)} {unit}; "
                         f"parallel {'files' if unit == 'lines' else 'lists'} must be aligned (one sentence pair "
                         f"per {unit[:-1]})")
    keep_src, keep_tgt, skipped = [], [], 0
    for s, t in zip(src, tgt):
        s, t = s.strip(), t.strip()
        if not s or not t:
            skipped += 1
            continue
        keep_src.append(s)
        keep_tgt.append(t)
    return ParallelText(keep_src, keep_tgt, skipped)


def read_parallel(src_path: str | os.PathLike, tgt_path: str | os.PathLike) -> ParallelText:
    """Read two line-aligned files into a :class:`ParallelText` (see the module docstring for the checks)."""
    return pair_lines(read_lines(src_path), read_lines(tgt_path), str(src_path), str(tgt_path))
