"""Text files for classification and language modelling, read with errors that say what to fix.

Classification files come in two shapes:

* CSV or TSV with a header that names a ``text`` and a ``label`` column (other columns are ignored);
  the delimiter is a tab for ``.tsv`` / ``.tab`` files and when the header holds a tab, else a comma.
* The Stanford Sentiment Treebank "label text" format (``stsa.binary.*``, ``stsa.fine.*``): no header, each line
  an integer label, a space, then the tokenized sentence.

Corpora for language models are plain UTF-8 text files.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

_SST_LINE = re.compile(r"^(-?\d+)[ \t]+(\S.*)$")


def read_text_file(path: str | Path, what: str = "text file") -> str:
    """Read a whole UTF-8 file; clear errors for a missing, empty or non-UTF-8 file.

    A leading byte-order mark is dropped; Windows line ends become ``\\n``.
    """
    path = Path(path)
    if not path.exists():
        raise OSError(f"{what} {path} does not exist")
    if path.is_dir():
        raise OSError(f"{what} {path} is a folder; give a file")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ValueError(f"{what} {path} is not UTF-8 (byte {e.start}, line {line}: {raw[e.start:e.start + 1]!r}); "
                         "convert it, e.g. `iconv -f latin1 -t utf-8 in.txt > out.txt`") from None
    text = text.lstrip("\ufeff").replace("\r\n", "\n")
    if not text.strip():
        raise ValueError(f"{what} {path} is empty")
    return text


def read_corpus(path: str | Path) -> str:
    """A plain-text corpus for language modelling, as one string."""
    return read_text_file(path, "corpus")


def read_classification(path: str | Path) -> tuple[list[str], list[str]]:
    """Read ``(texts, labels)`` from a CSV / TSV with ``text`` and ``label`` columns, or an SST "label text" file.

    Labels are returned as strings (class names); the classifier decides their order.
    """
    path = Path(path)
    text = read_text_file(path, "data file")
    lines = text.split("\n")
    first = lines[0]
    header_cells = [c.strip().strip('"').lower() for c in re.split(r"[\t,]", first)]
    if "text" in header_cells or "label" in header_cells:
        return _read_table(path, text)
    if _SST_LINE.match(first.strip()):
        return _read_sst(path, lines)
    raise ValueError(f"data file {path} has no header with 'text' and 'label' columns (first line: "
                     f"{first[:60]!r}); add a header line such as 'text<TAB>label', or use the SST "
                     "'label text' format")


def _read_table(path: Path, text: str) -> tuple[list[str], list[str]]:
    first = text.split("\n", 1)[0]
    tab = path.suffix.lower() in (".tsv", ".tab") or "\t" in first
    reader = (csv.reader(io.StringIO(text), delimiter="\t", quoting=csv.QUOTE_NONE) if tab
              else csv.reader(io.StringIO(text)))
    header = [c.strip().lower() for c in next(reader)]
    missing = [c for c in ("text", "label") if c not in header]
    if missing:
        raise ValueError(f"data file {path} has no {' or '.join(repr(m) for m in missing)} column "
                         f"(columns: {header}); the header must name both 'text' and 'label'")
    ti, li = header.index("text"), header.index("label")
    texts, labels = [], []
    for n, row in enumerate(reader, 2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) <= max(ti, li):
            raise ValueError(f"{path}:{n} has {len(row)} fields but the header has {len(header)}; "
                             f"is the delimiter {'a tab' if tab else 'a comma'}?")
        t, lab = row[ti].strip(), row[li].strip()
        if not lab:
            raise ValueError(f"{path}:{n} has an empty label")
        texts.append(t)
        labels.append(lab)
    if not texts:
        raise ValueError(f"data file {path} has a header but no rows")
    return texts, labels


def _read_sst(path: Path, lines: list[str]) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        m = _SST_LINE.match(line.strip())
        if m is None:
            raise ValueError(f"{path}:{n} is not '<integer label> <text>' like the first line: {line[:60]!r}")
        labels.append(m.group(1))
        texts.append(m.group(2))
    return texts, labels
