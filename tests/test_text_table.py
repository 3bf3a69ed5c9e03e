"""Terminal tables: columns line up by display width, and a cell is one line of inert text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from wcwidth import wcswidth

from commands.text_table import _ONE_COLUMN_SIGNS, _fit, display_width, render, render_columns
from domain.text import visible

RIGHT = (False, True)


def table(*names: str, max_width: int = 40) -> list[str]:
    return render(("Partner", "Amount"), [(name, "$1.00") for name in names], RIGHT, max_width=max_width).split("\n")


def test_chinese_and_japanese_names_take_two_columns_a_character():
    assert table("佐藤花子", "Bob") == [
        "Partner   Amount",
        "--------  ------",
        "佐藤花子   $1.00",
        "Bob        $1.00",
    ]


def test_an_emoji_joined_by_zero_width_joiners_takes_the_two_columns_a_terminal_gives_it():
    """👩‍💻 is one picture, two columns wide (Unicode TR #51), not the five its three code points sum to."""
    assert table("\U0001f469\u200d\U0001f4bb Dev", "Bob") == [
        "Partner  Amount",
        "-------  ------",
        "\U0001f469\u200d\U0001f4bb Dev    $1.00",
        "Bob       $1.00",
    ]


def test_zero_width_spaces_and_hangul_vowel_jamo_take_no_columns():
    """A decomposed Hangul syllable (ᄀ + ᅡ) shows as one wide syllable; U+200B shows as nothing."""
    assert table("Ann\u200b", "\u1100\u1161 Kim") == [
        "Partner  Amount",
        "-------  ------",
        "Ann\u200b       $1.00",
        "\u1100\u1161 Kim    $1.00",
    ]


def test_a_cell_too_wide_is_cut_by_columns_between_whole_characters():
    names = table("佐藤花子佐藤花子", "\U0001f469\u200d\U0001f4bb" * 5, max_width=7)
    assert names[2] == "佐藤花…   $1.00"
    assert names[3] == "\U0001f469\u200d\U0001f4bb\U0001f469\u200d\U0001f4bb\U0001f469\u200d\U0001f4bb…   $1.00"


def test_a_newline_in_a_cell_is_shown_as_an_escape_and_draws_no_row_of_its_own():
    lines = table("Big Payee\nA     Alice          $1.00")
    assert len(lines) == 3
    assert lines[2].startswith("Big Payee\\nA     Alice          $1.00")


def test_escape_sequences_and_bidi_overrides_in_a_cell_are_shown_as_escapes():
    lines = table("Ann\x1b]0;pwned\x07", "\x1b[2J", "\u202e00.1$")
    assert [line.split("  ")[0] for line in lines[2:]] == ["Ann\\x1b]0;pwned\\x07", "\\x1b[2J", "\\u202e00.1$"]
    assert not any(ch in "\x1b\x07\u202e" for line in lines for ch in line)


_PLAIN = st.characters(min_codepoint=32, max_codepoint=126)
_SIGNS = st.sampled_from(sorted(_ONE_COLUMN_SIGNS))  # every sign the fast path takes
_CELLS = st.one_of(st.text(alphabet=_PLAIN, max_size=12), st.text(alphabet=st.one_of(_PLAIN, _SIGNS),
                                                                 max_size=12), st.text(max_size=12))


@given(st.integers(min_value=1, max_value=4).flatmap(lambda n: st.tuples(
    st.lists(_CELLS, min_size=n, max_size=n),
    st.lists(st.lists(_CELLS, min_size=n, max_size=n), max_size=6),
    st.lists(st.booleans(), min_size=n, max_size=n),
)), st.integers(min_value=2, max_value=10))
def test_rows_of_plain_cells_are_laid_out_as_cell_by_cell_measuring_would(table, max_width):
    """Rows of printable ASCII and currency signs take a faster path (lengths and one format string);
    every table must come out as measuring each cell in display columns (wcwidth) and padding it would
    lay it out."""
    header, rows, right = table
    titles = [visible(h) for h in header]
    shown = [[_fit(visible(cell), max_width) for cell in row] for row in rows]
    widths = [max([_columns(titles[i])] + [_columns(row[i]) for row in shown]) for i in range(len(titles))]

    def laid_out(cells: list[str]) -> str:
        gaps = [" " * (widths[i] - _columns(cell)) for i, cell in enumerate(cells)]
        return "  ".join(gap + cell if right[i] else cell + gap for i, (cell, gap) in enumerate(zip(cells, gaps, strict=True))).rstrip()

    expected = [laid_out(titles), "  ".join("-" * w for w in widths)] + [laid_out(row) for row in shown]
    assert render(header, rows, right, max_width) == "\n".join(expected)
    columns = [[row[i] for row in rows] for i in range(len(header))]
    assert render_columns(header, columns, right, max_width) == "\n".join(expected)


def test_columns_of_different_lengths_are_refused_rather_than_cut_to_the_shortest():
    with pytest.raises(ValueError, match="as many cells"):
        render_columns(("Partner", "Amount"), [["P1", "P2"], ["$1.00"]], RIGHT)


def _columns(text: str) -> int:
    """Display columns by wcwidth alone, the terminal's rules, with no fast path."""
    return max(wcswidth(text), 0)


@given(st.text(alphabet=st.one_of(_PLAIN, _SIGNS), max_size=30))
def test_text_of_printable_ascii_and_currency_signs_is_as_wide_as_wcwidth_says(text):
    assert display_width(text) == _columns(text) == len(text)
