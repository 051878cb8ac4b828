import pytest

from rnnkit.translate.numbers import MAX_VALUE, english_number, japanese_number, number_corpus, sample_numbers


@pytest.mark.parametrize("n, en, ja", [
    (0, "zero", "零"),
    (7, "seven", "七"),
    (15, "fifteen", "十五"),
    (40, "forty", "四十"),
    (110, "one hundred and ten", "百十"),
    (2024, "two thousand and twenty-four", "二千二十四"),
    (10_000, "ten thousand", "一万"),
    (12_345_000, "twelve million three hundred and forty-five thousand", "千二百三十四万五千"),
    (1_000_005, "one million and five", "百万五"),
    (11_000_000, "eleven million", "千百万"),
    (100_000_000, "one hundred million", "一億"),
    (123_456_789, "one hundred and twenty-three million four hundred and fifty-six thousand seven hundred and "
                   "eighty-nine", "一億二千三百四十五万六千七百八十九"),
    (2_000_000_000_000 // 1000, "two billion", "二十億"),
])
def test_known_numbers(n, en, ja):
    assert english_number(n) == en
    assert japanese_number(n) == ja


def test_out_of_range_is_rejected():
    with pytest.raises(ValueError, match=r"numbers are defined for integers 0\.\.999999999999, got -1"):
        english_number(-1)
    with pytest.raises(ValueError, match="got 1000000000000"):
        japanese_number(MAX_VALUE + 1)


def test_samples_are_distinct_repeatable_and_respect_exclusion():
    a = sample_numbers(300, 99_999, seed=3)
    assert len(set(a)) == 300 and a == sample_numbers(300, 99_999, seed=3)
    b = sample_numbers(300, 99_999, seed=4, exclude=set(a))
    assert not set(a) & set(b)
    assert any(n < 10 for n in a) and any(n >= 10_000 for n in a)  # every digit count is drawn
    en, ja, values = number_corpus(5, seed=1)
    assert [english_number(v) for v in values] == en and [japanese_number(v) for v in values] == ja


def test_too_many_numbers_requested():
    with pytest.raises(ValueError, match=r"cannot draw 20 distinct numbers from 0\.\.9 with 0 excluded"):
        sample_numbers(20, 9)
