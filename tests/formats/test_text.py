
import pytest
from hypothesis import given, settings, strategies as st

from multitrans.formats import UnsupportedFormat, format_for
from multitrans.formats.text import read
from samples import ARTICLE



def test_sample_article_round_trips_and_has_expected_blocks():
    text = ARTICLE.read_text(encoding="utf-8")
    doc = read(text, ARTICLE.name)
    assert doc.source == text
    assert len(doc.blocks) == 14
    assert doc.blocks[0].text == "ALL ARTICLES CAN BE READ IN MORE THAN 100 LANGUAGES"
    assert [b.kind for b in doc.blocks][:4] == ["heading", "paragraph", "paragraph", "heading"]
    # The no-break-space separator lines are layout, never a block.
    assert all(b.text.strip("\u00a0 ") for b in doc.blocks)
    assert "\n\n\u00a0\n\n" in doc.template[1]


def test_render_replaces_only_block_texts():
    doc = read("Tittel\n\nFørste avsnitt.\nAndre linje.\n \n\u00a0\nSiste.", "a.txt")
    assert [b.kind for b in doc.blocks] == ["heading", "paragraph", "paragraph"]
    assert doc.blocks[1].text == "Første avsnitt.\nAndre linje."
    assert doc.render(["A", "B", "C"]) == "A\n\nB\n \n\u00a0\nC"


def test_unsupported_format_names_the_supported_ones():
    with pytest.raises(UnsupportedFormat, match=r"\.txt.*\.md"):
        format_for("article.docx")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list("ab. \n\t\u00a0\r!") + ["Hei", "\u2028"]), max_size=60).map("".join))
def test_any_text_round_trips(text):
    doc = read(text, "x.txt")
    assert doc.source == text
    assert all(b.text == b.text.strip() and b.text for b in doc.blocks)


@pytest.mark.parametrize("line", [
    "有人提议应将 AM 的头衔改为MWP（威尔士议会议员)，这让有些 AM 惊愕不已。",  # NTREX zho-CN line 2
    "“不好，我们来晚了！”", "你今天去哪里了？", "この文は日本語です。",
])
def test_a_line_ending_in_a_cjk_sentence_mark_is_a_paragraph_not_a_heading(line: str) -> None:
    assert [b.kind for b in read(f"{line}\n", "zh.txt").blocks] == ["paragraph"]
    assert [b.kind for b in read("威尔士议会\n", "zh.txt").blocks] == ["heading"]  # no closing mark: a heading
