"""The HTML carries the glyphs it needs from the project's own fonts (the hiragana, from IPAexGothic)."""
import base64
import io
import re

import pytest
from conftest import PROJECT
from fontTools.ttLib import TTFont

from report import webfonts

HIRAGANA = "おきすつなはまやれを"
HTML = f"<html><head><title>r</title></head><body><p>{HIRAGANA} (o, ki, ...) 1,000 images</p></body></html>"


@pytest.fixture(scope="module")
def font_paths():
    if not any(folder.glob("ipaexg.ttf") for folder in PROJECT.font_paths):
        pytest.skip("IPAexGothic is not installed (pip install matplotlib-fontja)")
    return PROJECT.font_paths


def test_the_html_gets_a_font_face_with_exactly_the_wide_characters_it_prints(font_paths):
    html = webfonts.embed(HTML, font_paths)
    (face,) = re.findall(r"@font-face \{.*?\}", html, re.S)
    assert html.index(face) < html.index("</head>")
    assert 'font-family: "IPAexGothic"' in face
    ranges = re.search(r"unicode-range: ([^;]*);", face).group(1)
    assert ranges == ", ".join(f"U+{ord(c):X}" for c in sorted(HIRAGANA))  # no Latin text changes font
    assert "src: url(data:font/ttf;base64," in face  # the type of the font file it subsets
    data = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)\)", face).group(1))
    with TTFont(io.BytesIO(data)) as subset:
        assert set(subset.getBestCmap()) == {ord(c) for c in HIRAGANA}
    assert len(data) < 20_000  # a few glyphs, not the 4 MB font


def test_html_without_wide_characters_or_fonts_for_them_is_left_as_it_is(font_paths, tmp_path):
    latin = HTML.replace(HIRAGANA, "")
    assert webfonts.embed(latin, font_paths) == latin
    (tmp_path / "broken.ttf").write_bytes(b"not a font")
    assert webfonts.embed(HTML, [tmp_path]) == HTML
