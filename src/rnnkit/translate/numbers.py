"""A built-in parallel corpus: English number words paired with Japanese numerals, generated in code.

English groups digits by thousands ("twelve million three hundred and forty-five thousand"), Japanese by
ten-thousands (万 = 10^4, 億 = 10^8): 12,345,000 is 千二百三十四万五千. The alignment is therefore not monotone,
and a model needs attention (or a very good memory) to translate it. No external data or dictionary is used.

Example:
    >>> english_number(2024), japanese_number(2024)
    ('two thousand and twenty-four', '二千二十四')
    >>> japanese_number(12_345_000)
    '千二百三十四万五千'
"""

from __future__ import annotations

import random

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = [(10**9, "billion"), (10**6, "million"), (10**3, "thousand")]

_KANJI_DIGITS = "〇一二三四五六七八九"
_KANJI_SMALL = [(1000, "千"), (100, "百"), (10, "十")]
_KANJI_BIG = [(10**12, "兆"), (10**8, "億"), (10**4, "万")]

MAX_VALUE = 10**12 - 1  # the largest number the English side names ("billion" is the largest scale word)


def _check(n: int) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_VALUE:
        raise ValueError(f"numbers are defined for integers 0..{MAX_VALUE}, got {n!r}")


def _english_below_100(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def _english_below_1000(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    if not hundreds:
        return _english_below_100(rest)
    words = f"{_ONES[hundreds]} hundred"
    return words + (f" and {_english_below_100(rest)}" if rest else "")


def english_number(n: int) -> str:
    """British English words for ``n``: 2024 -> "two thousand and twenty-four", 1_000_005 -> "one million and five"."""
    _check(n)
    if n == 0:
        return "zero"
    parts = []
    for value, name in _SCALES:
        group, n = divmod(n, value)
        if group:
            parts.append(f"{_english_below_1000(group)} {name}")
    if n:
        # British usage puts "and" before a final group below one hundred that follows a larger group.
        parts.append(("and " if parts and n < 100 else "") + _english_below_1000(n))
    return " ".join(parts)


def _kanji_below_10000(n: int) -> str:
    out = []
    for value, unit in _KANJI_SMALL:
        digit, n = divmod(n, value)
        if digit:
            out.append(("" if digit == 1 else _KANJI_DIGITS[digit]) + unit)  # 千, 百, 十 take no 一
    if n:
        out.append(_KANJI_DIGITS[n])
    return "".join(out)


def japanese_number(n: int) -> str:
    """Japanese numerals for ``n`` grouped by 万 / 億 / 兆: 2024 -> 二千二十四, 10_000 -> 一万, 0 -> 零."""
    _check(n)
    if n == 0:
        return "零"
    out = []
    for value, unit in _KANJI_BIG:
        group, n = divmod(n, value)
        if group:
            out.append(_kanji_below_10000(group) + unit)  # 一万 keeps its 一
    if n:
        out.append(_kanji_below_10000(n))
    return "".join(out)


def sample_numbers(count: int, max_value: int = 10**9 - 1, seed: int = 0, exclude: set[int] | None = None
                   ) -> list[int]:
    """``count`` distinct integers in 0..max_value, the number of digits uniform (so small numbers appear too).

    Args:
        count: how many numbers to draw.
        max_value: the largest value (at most ``MAX_VALUE``).
        seed: random seed; the same seed gives the same list.
        exclude: values never drawn (e.g. the training set, when drawing held-out numbers).
    """
    _check(max_value)
    exclude = exclude or set()
    digits_max = len(str(max_value))
    capacity = max_value + 1 - len(exclude)
    if count > capacity:
        raise ValueError(f"cannot draw {count} distinct numbers from 0..{max_value} with {len(exclude)} excluded")
    rng = random.Random(seed)
    seen: set[int] = set()
    out: list[int] = []
    while len(out) < count:
        d = rng.randint(1, digits_max)
        lo, hi = (0 if d == 1 else 10 ** (d - 1)), min(10**d - 1, max_value)
        n = rng.randint(lo, hi)
        if n not in seen and n not in exclude:
            seen.add(n)
            out.append(n)
    return out


def number_corpus(count: int, max_value: int = 10**9 - 1, seed: int = 0, exclude: set[int] | None = None
                  ) -> tuple[list[str], list[str], list[int]]:
    """Parallel lists ``(english, japanese, values)`` for ``count`` distinct random numbers (see ``sample_numbers``)."""
    values = sample_numbers(count, max_value, seed, exclude)
    return [english_number(v) for v in values], [japanese_number(v) for v in values], values
