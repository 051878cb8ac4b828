"""Speech data: manifest CSVs, the Free Spoken Digit Dataset, OpenSLR yesno, and seeded connected-digit utterances.

Loaders return lists of ``(wav path, transcript)`` pairs, ready for ``SpeechRecognizer.fit``.

Example:
    >>> train = load_fsdd(data / "fsdd", speakers=["george", "jackson", "lucas", "nicolas"])   # doctest: +SKIP
    >>> utts = connected_digits(train, n=500, seed=0)     # [(waveform, "three one four", 8000), ...]
"""

from __future__ import annotations

import csv
import io
import os
import random
from pathlib import Path

import numpy as np

from rnnkit.datasets.parallel import read_lines

DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
FSDD_SPEAKERS = ["george", "jackson", "lucas", "nicolas", "theo"]


def read_manifest(path: str | os.PathLike, must_exist: bool = False) -> list[tuple[str, str]]:
    """A CSV with header ``path,text`` -> [(absolute wav path, transcript)].

    Relative paths resolve against the manifest's folder; an empty ``text`` cell is an empty transcript. Other
    columns are allowed (see :func:`read_manifest_speakers`). ``must_exist``: a listed file that is not there is
    an error naming its line, before any work starts.
    """
    rows = _manifest_rows(path)
    if must_exist:
        missing = [(line, p) for p, _, _, line in rows if not Path(p).is_file()]
        if missing:
            line, p = missing[0]
            raise ValueError(f"manifest {path}: {len(missing)} of {len(rows)} listed files do not exist, the first "
                             f"{p} (line {line}); fix the paths (relative ones start from the manifest's folder)")
    return [(p, t) for p, t, _, _ in rows]


def read_manifest_speakers(path: str | os.PathLike) -> list[str] | None:
    """The optional ``speaker`` column of a manifest, a value per row in order, or None when it has none.

    Raises:
        ValueError: a row with an empty speaker cell.
    """
    rows = _manifest_rows(path)
    if rows[0][2] is None:
        return None
    for _, _, speaker, line in rows:
        if not speaker:
            raise ValueError(f"manifest {path} line {line} has an empty speaker; name every row's speaker, or drop the "
                             "column to treat all files as one speaker")
    return [speaker for _, _, speaker, _ in rows]


def _manifest_rows(path: str | os.PathLike) -> list[tuple[str, str, str | None, int]]:
    """[(absolute wav path, transcript, speaker or None when there is no speaker column, line number)]."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"manifest {path} is a folder; give the CSV file with the header 'path,text'")
    if not path.is_file():
        raise OSError(f"manifest {path} does not exist")
    # read_lines: UTF-8 with an error naming the file and byte; a byte-order mark (Excel) and CRLF dropped
    reader = csv.reader(io.StringIO("\n".join(read_lines(path))))
    header = [h.strip() for h in next(reader, [])]
    fields = [h.lower() for h in header]  # "Path,Text" from a spreadsheet reads the same
    if "path" not in fields or "text" not in fields:
        raise ValueError(f"manifest {path} must be a CSV with the header 'path,text', got {header}")
    rows = []
    for cells in reader:
        i = reader.line_num
        if not any(c.strip() for c in cells):  # a blank line, or a spreadsheet's row of empty cells
            continue
        if len(cells) != len(fields):
            # an unquoted comma in a transcript would otherwise cut it short without a word
            raise ValueError(f"manifest {path} line {i} has {len(cells)} cells but the header "
                             f"{','.join(fields)!r} has {len(fields)}; quote a path or transcript that holds a "
                             'comma ("Hello, world") and give every column a cell (an empty transcript: a.wav,)')
        row = dict(zip(fields, cells))
        p = (row.get("path") or "").strip()
        if not p:
            raise ValueError(f"manifest {path} line {i} has an empty path")
        full = Path(p).expanduser()  # ~/clips/a.wav as a shell would read it
        full = full if full.is_absolute() else path.parent / full
        speaker = (row.get("speaker") or "").strip() if "speaker" in fields else None
        rows.append((str(full), (row.get("text") or "").strip(), speaker, i))
    if not rows:
        raise ValueError(f"manifest {path} lists no files")
    return rows


def write_manifest(path: str | os.PathLike, pairs: list[tuple[str, str]]) -> None:
    """Write ``path,text`` rows (paths written as given)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["path", "text"])
        w.writerows(pairs)


def _need_dir(root: str | os.PathLike, what: str) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise OSError(f"{what} folder {root} does not exist; point --data (or RNNKIT_DATA) at the data folder")
    return root


def load_fsdd(root: str | os.PathLike, speakers: list[str] | None = None) -> list[tuple[str, str]]:
    """Free Spoken Digit Dataset: ``{digit}_{speaker}_{take}.wav`` -> [(path, digit word)], sorted by name.

    Args:
        root: the ``fsdd`` folder (holding ``recordings/``) or the recordings folder itself.
        speakers: keep only these speakers (None = all).
    """
    root = _need_dir(root, "FSDD")
    rec = root / "recordings" if (root / "recordings").is_dir() else root
    out = []
    for p in sorted(rec.glob("*.wav")):
        digit, speaker, _take = p.stem.split("_")
        if speakers is None or speaker in speakers:
            out.append((str(p), DIGITS[int(digit)]))
    if not out:
        raise ValueError(f"no FSDD recordings for speakers {speakers} under {rec}")
    return out


def fsdd_speaker(path: str) -> str:
    return Path(path).stem.split("_")[1]


def load_yesno(root: str | os.PathLike) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """OpenSLR yesno -> (train, test): the Kaldi split, first 31 files sorted by name train, last 29 test."""
    root = _need_dir(root, "yesno")
    waves = root / "waves_yesno" if (root / "waves_yesno").is_dir() else root
    files = sorted(waves.glob("*.wav"))
    if not files:
        raise ValueError(f"no yesno wav files under {waves}")
    pairs = [(str(p), " ".join("yes" if b == "1" else "no" for b in p.stem.split("_"))) for p in files]
    return pairs[:31], pairs[31:]


def connected_digits(clips: list[tuple[str, str]], n: int, seed: int = 0, min_digits: int = 1,
                     max_digits: int = 7, gap: tuple[float, float] = (0.05, 0.25), edge: float = 0.1,
                     speaker_of=fsdd_speaker, transform=None) -> list[tuple[np.ndarray, str, int]]:
    """Utterances of 1-7 digits made by concatenating isolated clips of ONE speaker with short silent gaps.

    Args:
        clips: (wav path, digit word) pairs, e.g. from :func:`load_fsdd`.
        n: number of utterances.
        seed: the same seed gives the same utterances.
        min_digits, max_digits: digits per utterance, drawn uniformly.
        gap: range of the silence between digits, in seconds.
        edge: silence before the first and after the last digit, in seconds.
        speaker_of: path -> speaker, so an utterance never mixes speakers.
        transform: ``(waveform, sample_rate) -> waveform`` applied to each clip as it is placed (augmentation,
            e.g. random trimming); it does not change which digits and gaps a seed draws.

    Returns:
        [(waveform float32 (T,), "three one four", sample_rate)].
    """
    from rnnkit.speech.audio import read_wav

    rng = random.Random(seed)
    by_speaker: dict[str, list[tuple[str, str]]] = {}
    for p, t in clips:
        by_speaker.setdefault(speaker_of(p), []).append((p, t))
    speakers = sorted(by_speaker)
    cache: dict[str, tuple[np.ndarray, int]] = {}

    def load(p):
        if p not in cache:
            w, sr = read_wav(p)
            cache[p] = (w.numpy(), sr)
        return cache[p]

    out = []
    for _ in range(n):
        pool = by_speaker[rng.choice(speakers)]
        picks = [rng.choice(pool) for _ in range(rng.randint(min_digits, max_digits))]
        sr = load(picks[0][0])[1]
        parts = [np.zeros(int(edge * sr), np.float32)]
        for j, (p, _) in enumerate(picks):
            w, rate = load(p)
            if transform is not None:
                w = np.asarray(transform(w, rate), dtype=np.float32)
            if rate != sr:
                raise ValueError(f"{p} is {rate} Hz but the other clips are {sr} Hz")
            if j:
                parts.append(np.zeros(int(rng.uniform(*gap) * sr), np.float32))
            parts.append(w)
        parts.append(np.zeros(int(edge * sr), np.float32))
        out.append((np.concatenate(parts), " ".join(t for _, t in picks), sr))
    return out
