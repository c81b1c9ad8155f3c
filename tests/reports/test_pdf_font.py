"""The forms' font: the system's Noto Serif CJK SC cut down to the characters forms print
(scripts/subset_fonts.py, run by `make`), with the system's Noto drawing whatever it lacks, and
whole forms until it is made."""

import importlib.util
import io
import os

import pytest
from django.conf import settings
from fontTools.pens.boundsPen import BoundsPen
from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from cases.models import Member
from reports import pdf
from surveys.models import Survey

from .conftest import pdf_text

pytestmark = pytest.mark.django_db

_spec = importlib.util.spec_from_file_location("subset_fonts", settings.BASE_DIR / "scripts" / "subset_fonts.py")
subset_fonts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(subset_fonts)

TITLE = "无为县城乡居民最低生活保障对象复核入户调查表"
RARE = "琇堃𠇔"  # none of them in GB 2312; 𠇔 is beyond the basic plane


def embedded_fonts(content: bytes) -> dict[str, TTFont]:
    """The fonts a PDF embeds, by name without the subset's tag (ABCDEF+Name)."""
    fonts = {}
    for page in PdfReader(io.BytesIO(content)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            program = descriptor.get("/FontFile3") or descriptor.get("/FontFile2")
            fonts[str(font["/BaseFont"]).split("+", 1)[-1]] = TTFont(io.BytesIO(program.get_object().get_data()))
    return fonts


def drawn_by(fonts: dict[str, TTFont], character: str) -> list[str]:
    """The embedded fonts that have an outline for this character (none: it shows as a blank box)."""
    names = []
    for name, font in fonts.items():
        glyph = (font.getBestCmap() or {}).get(ord(character))
        if glyph:
            glyphs = font.getGlyphSet()
            pen = BoundsPen(glyphs)
            glyphs[glyph].draw(pen)
            if pen.bounds:
                names.append(name)
    return sorted(names)


@pytest.fixture(scope="module")
def small_fonts(tmp_path_factory):
    """The forms' font cut down further, to ASCII and the title (quick to make). Pango draws a space
    in the font of the text around it: the forms' font must have them all, as the real one does."""
    folder = tmp_path_factory.mktemp("fonts")
    for style, file in subset_fonts.FACES.items():
        subset_fonts.subset(*subset_fonts.source(style), style, folder / file, {*range(0x20, 0x7F), *map(ord, TITLE)})
    return folder


@pytest.fixture
def fonts_in(monkeypatch):
    """Forms drawn with the forms' font from the folder given, in a font configuration of their own."""

    def use(folder):
        monkeypatch.setattr(pdf, "FONT_DIR", folder)
        pdf._stylesheets.cache_clear()
        pdf._font_config.cache_clear()

    yield use
    pdf._stylesheets.cache_clear()
    pdf._font_config.cache_clear()


def form(survey) -> bytes:
    return pdf.write_pdf([pdf.render_survey(pdf.surveys_for_print(Survey.objects.filter(pk=survey.pk)).get())])


def test_it_draws_forms_in_the_cut_down_font_when_it_is_made(rich_survey, small_fonts, fonts_in):
    fonts_in(small_fonts)
    content = form(rich_survey)
    fonts = embedded_fonts(content)
    assert {"Noto-Serif-SC-Form", "Noto-Serif-SC-Form-Bold"} <= set(fonts)
    for character in TITLE:  # in the page's margin, and the heading in bold
        assert drawn_by(fonts, character) == ["Noto-Serif-SC-Form", "Noto-Serif-SC-Form-Bold"], character
    # what the cut-down font lacks comes from the system's Noto: nothing is missing
    assert "Noto-Serif-CJK-SC" in fonts
    text = pdf_text(content)
    assert TITLE in text and "户主姓名张建国" in text and "第1页共2页" in text


def test_it_draws_rare_characters_of_names_from_the_system_font(rich_survey, small_fonts, fonts_in):
    fonts_in(small_fonts)
    head = rich_survey.members.get(relationship=Member.Relationship.HEAD)
    head.name = "张" + RARE
    head.save(update_fields=["name"])
    content = form(rich_survey)
    fonts = embedded_fonts(content)
    for character in RARE:
        assert drawn_by(fonts, character) == ["Noto-Serif-CJK-SC"], character
    assert "户主姓名张" + RARE in pdf_text(content)


@pytest.mark.skipif(not (pdf.FONT_DIR / "NotoSerifSCForm-Regular.otf").is_file(), reason="`make` has not made it")
def test_it_draws_the_forms_of_most_households_in_the_made_font_alone(rich_survey, fonts_in):
    fonts_in(pdf.FONT_DIR)
    fonts = embedded_fonts(form(rich_survey))
    assert set(fonts) == {"Noto-Serif-SC-Form", "Noto-Serif-SC-Form-Bold", "DejaVu-Sans"}  # ☐☑ in DejaVu


def test_it_draws_forms_in_the_system_font_until_the_cut_down_one_is_made(rich_survey, fonts_in, tmp_path):
    fonts_in(tmp_path)
    content = form(rich_survey)
    fonts = embedded_fonts(content)
    assert not any(name.startswith("Noto-Serif-SC-Form") for name in fonts)
    for character in TITLE:
        assert drawn_by(fonts, character) == ["Noto-Serif-CJK-SC", "Noto-Serif-CJK-SC-Bold"], character
    assert TITLE in pdf_text(content)


def test_it_leaves_no_copy_of_the_font_behind(small_fonts, fonts_in):
    fonts_in(small_fonts)
    pdf._stylesheets()
    folder = pdf._font_config()._folder  # where WeasyPrint copies @font-face fonts
    assert any(folder.iterdir())
    pdf._remove_font_copies(pdf._font_config())  # at exit
    assert not folder.exists()


# --- scripts/subset_fonts.py ------------------------------------------------------------------


def test_it_cuts_the_system_font_down_to_the_characters_given_with_the_same_outlines(tmp_path):
    source = subset_fonts.source("Regular")
    target = tmp_path / "form.otf"
    subset_fonts.subset(*source, "Regular", target, {ord(c) for c in "张建国12"})
    made, system = TTFont(target), TTFont(source[0], fontNumber=source[1])
    assert made["name"].getDebugName(1) == pdf.FORM_FONT == subset_fonts.FAMILY
    assert set(made.getBestCmap()) == {ord(c) for c in "张建国12"}
    for character in "张建国12":
        outlines = []
        for font in (made, system):
            glyphs = font.getGlyphSet()
            pen = DecomposingRecordingPen(glyphs)
            glyphs[font.getBestCmap()[ord(character)]].draw(pen)
            outlines.append((pen.value, font["hmtx"][font.getBestCmap()[ord(character)]]))
        assert outlines[0] == outlines[1], character


def test_it_keeps_gb2312_and_punctuation():
    characters = subset_fonts.form_characters()
    assert sum(1 for c in characters if 0x4E00 <= c <= 0x9FFF) == 6763
    assert {ord(c) for c in "（）：；、。·—×㎡①ＡＢ"} <= characters
    assert not {ord(c) for c in RARE} & characters


def test_it_does_nothing_once_made(tmp_path, monkeypatch):
    for file in subset_fonts.FACES.values():
        (tmp_path / file).write_bytes(b"made")
    monkeypatch.setattr(subset_fonts, "subset", None)  # would fail if called
    assert subset_fonts.main(tmp_path) == 0
    assert all((tmp_path / file).read_bytes() == b"made" for file in subset_fonts.FACES.values())


def test_it_makes_nothing_without_the_system_font(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(subset_fonts, "source", lambda style: None)
    assert subset_fonts.main(tmp_path / "fonts") == 0
    assert not (tmp_path / "fonts").exists() and "fonts-noto-cjk" in capsys.readouterr().err


def test_it_makes_again_after_the_script_changed(tmp_path, monkeypatch):
    for file in subset_fonts.FACES.values():
        (tmp_path / file).write_bytes(b"old")
        os.utime(tmp_path / file, (0, 0))  # older than the script
    made = []
    monkeypatch.setattr(subset_fonts, "subset", lambda *args: made.append(args[2]))
    subset_fonts.main(tmp_path)
    assert made == list(subset_fonts.FACES)
