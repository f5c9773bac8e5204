"""Rewrite a workbook's inline strings into a shared-strings table, as Excel saves them.

    .venv/bin/python bench/sst.py IN.xlsx OUT.xlsx

bench/gen.py writes with XlsxWriter's constant_memory mode, which stores every text cell
inline (``t="inlineStr"``). Excel stores them once in ``xl/sharedStrings.xml`` and refers to
them by index (``t="s"``); a reader then holds that table too (a million unique transaction
refs at 1M rows). ``bench_run.py --shared-strings`` measures on files converted by this.
"""

from __future__ import annotations

import re
import sys
import zipfile
from pathlib import Path

_INLINE = re.compile(
    rb'<c r="([A-Z]+[0-9]+)"((?: s="[0-9]+")?) t="inlineStr"><is><t((?: [^>]*)?)>([^<]*)</t></is></c>'
)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
_SST_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"


def convert(src: str | Path, dst: str | Path) -> tuple[int, int]:
    """Write ``dst``: ``src`` with every inline string moved to a shared-strings table.
    Returns (text cells, distinct strings)."""
    index: dict[tuple[bytes, bytes], int] = {}  # (attributes of <t>, escaped text) -> its index
    cells = 0

    def shared(m: re.Match) -> bytes:
        nonlocal cells
        cells += 1
        k = index.setdefault((m.group(3), m.group(4)), len(index))
        return b'<c r="%s"%s t="s"><v>%d</v></c>' % (m.group(1), m.group(2), k)

    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        if "xl/sharedStrings.xml" in zin.namelist():
            raise SystemExit(f"{src} already has a shared-strings table")
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = _INLINE.sub(shared, data)
            elif info.filename == "[Content_Types].xml":
                override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SST_TYPE}"/>'
                data = data.replace(b"</Types>", override.encode() + b"</Types>")
            elif info.filename == "xl/_rels/workbook.xml.rels":
                rel = f'<Relationship Id="rIdSst" Type="{_SST_REL}" Target="sharedStrings.xml"/>'
                data = data.replace(b"</Relationships>", rel.encode() + b"</Relationships>")
            zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
        # the texts are still XML-escaped as they stood in the sheets: written back as they are
        body = b"".join(b"<si><t" + attrs + b">" + text + b"</t></si>" for attrs, text in index)
        head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        head += f'<sst xmlns="{_MAIN}" count="{cells}" uniqueCount="{len(index)}">'
        sst = head.encode() + body + b"</sst>"
        zout.writestr("xl/sharedStrings.xml", sst, compress_type=zipfile.ZIP_DEFLATED)
    return cells, len(index)


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        sys.exit("usage: bench/sst.py IN.xlsx OUT.xlsx")
    cells, distinct = convert(argv[0], argv[1])
    print(f"{cells:,} text cells, {distinct:,} distinct strings")


if __name__ == "__main__":
    main(sys.argv[1:])
