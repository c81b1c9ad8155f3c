"""The printed forms' font (reports/pdf.py): the system's Noto Serif CJK SC, regular and bold, cut
down to what forms print, as small OpenType files in the folder given (`make` runs it).

    .venv/bin/python scripts/subset_fonts.py var/fonts

Embedding a font in a PDF reads and subsets the whole face on every form: 26 MB and 65,000
glyphs for each of the system's two faces. The cut-down faces keep ASCII, Latin-1, the
punctuation and symbol blocks, and the 6,763 hanzi of GB 2312 (all of GB 2312's characters, in
fact): 9,000 glyphs, 3 MB. A rarer character (a name's 堃 or 𠇔) is drawn from the system's
Noto, which print.css names next.

Does nothing when both files are newer than this script. Without the system's Noto
(fonts-noto-cjk), says so and makes nothing: forms are then drawn in the system's fonts.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FAMILY = "Noto Serif SC Form"  # reports/pdf.py declares it under this name
SOURCE_FAMILY = "Noto Serif CJK SC"
FACES = {"Regular": "NotoSerifSCForm-Regular.otf", "Bold": "NotoSerifSCForm-Bold.otf"}

# Beyond GB 2312: what forms may show of these blocks (℃, ①, ㎡, ﹝, full-width forms, …).
BLOCKS = [
    (0x0020, 0x007E),  # ASCII
    (0x00A0, 0x00FF),  # Latin-1: · × ÷ °
    (0x2000, 0x206F),  # general punctuation: — ‘’ “” … ‰ and the spaces
    (0x2100, 0x22FF),  # letterlike, number forms, arrows, mathematical operators
    (0x2460, 0x25FF),  # enclosed alphanumerics, box drawing, geometric shapes
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3200, 0x33FF),  # enclosed CJK letters, CJK compatibility (㎡)
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # half-width and full-width forms
]
# The default OpenType features less vertical writing's (forms are horizontal), in the language
# systems simplified Chinese text is shaped with (Latin digits and quotes have local forms there);
# other languages' local forms would bring thousands of Japanese, Korean and traditional glyphs.
DROPPED_FEATURES = {"vert", "vrt2", "vkrn", "vpal", "vhal", "valt", "vchw"}
LANGUAGES = ["dflt", "ZHS"]
DROPPED_TABLES = ["vhea", "vmtx", "VORG"]  # vertical metrics; BASE aligns scripts


def form_characters() -> set[int]:
    """GB 2312's characters (its symbols and 6,763 hanzi) and the blocks above."""
    characters = {c for low, high in BLOCKS for c in range(low, high + 1)}
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                characters.add(ord(bytes((row, cell)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return characters


def source(style: str) -> tuple[str, int] | None:
    """The system's file and face index of Noto Serif CJK SC in this style, if installed."""
    command = ["fc-match", "--format=%{file}\t%{index}\t%{family}", f"{SOURCE_FAMILY}:style={style}"]
    try:
        found = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603 - fixed arguments
    except (OSError, subprocess.CalledProcessError):
        return None
    path, index, families = [*found.split("\t"), "", ""][:3]
    return (path, int(index)) if SOURCE_FAMILY in families.split(",") else None


def subset(path: str, index: int, style: str, target: Path, characters: set[int]) -> None:
    """The face at `index` of the font file at `path` with the glyphs of these characters (and
    what its layout features make of them), under our own names."""
    from fontTools import subset as fonttools_subset
    from fontTools.ttLib import TTFont

    font = TTFont(path, fontNumber=index, recalcBBoxes=False)  # metrics as they were
    options = fonttools_subset.Options()
    options.layout_features = [f for f in options.layout_features if f not in DROPPED_FEATURES]
    options.drop_tables += DROPPED_TABLES
    scripts = {record.ScriptTag.strip() for record in font["GSUB"].table.ScriptList.ScriptRecord}
    options.layout_scripts = [f"{script}.{language}" for script in scripts for language in LANGUAGES]
    options.name_IDs = [0, 7, 8, 9, 11, 13, 14]  # copyright, trademark, vendor, licence; names below
    options.notdef_outline = True
    subsetter = fonttools_subset.Subsetter(options)
    subsetter.populate(unicodes=characters & set(font.getBestCmap()))
    subsetter.subset(font)
    _rename(font, style)
    partial = target.with_suffix(".partial")
    font.save(partial)
    partial.replace(target)


def _rename(font, style: str) -> None:
    """Names of its own, so that fontconfig never takes it for the system's Noto."""
    name = font["name"]
    postscript = FAMILY.replace(" ", "") + "-" + style
    for name_id, value in {
        1: FAMILY,
        2: style,
        3: f"{postscript};cut down from {SOURCE_FAMILY}",
        4: f"{FAMILY} {style}",
        6: postscript,
    }.items():
        name.setName(value, name_id, 3, 1, 0x409)
    font["CFF "].cff.fontNames = [postscript]


def main(folder: Path) -> int:
    targets = {style: folder / file for style, file in FACES.items()}
    made_after = Path(__file__).stat().st_mtime
    if all(t.is_file() and t.stat().st_mtime > made_after for t in targets.values()):
        return 0
    sources = {style: source(style) for style in targets}
    if not all(sources.values()):
        print(f"{SOURCE_FAMILY} is not installed (fonts-noto-cjk): PDFs use the system's fonts", file=sys.stderr)
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    for style, target in targets.items():
        print(f"==> {target}: {SOURCE_FAMILY} {style}, cut down")
        subset(*sources[style], style, target, form_characters())
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
