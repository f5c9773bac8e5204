"""Rebuild the reference workbooks in this folder (see README.md).

    /work/venv/bin/python tests/data/make_reference.py

XlsxWriter writes the body; the parts XlsxWriter cannot make (an external link,
a customXml item, a calcChain) are then added by editing the zip, exactly as
Excel lays them out. Timestamps are fixed so the files are reproducible.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import xlsxwriter

HERE = Path(__file__).parent
VBA_SOURCE = Path(xlsxwriter.__file__).parents[1] / "xlwings" / "quickstart_standalone.xlsm"


def body(path_or_buf, vba: bytes | None) -> None:
    wb = xlsxwriter.Workbook(path_or_buf, {"in_memory": True})
    wb.set_properties({"created": dt.datetime(2026, 1, 1)})
    ws = wb.add_worksheet("Data")
    ws.write_row(0, 0, ["Month", "Amount", "Note"])
    for i in range(6):
        ws.write_row(i + 1, 0, [f"2026-0{i + 1}", 100 * (i + 1) - 250, "shared string"])
    ws.write_formula("B8", "=SUM(B2:B7)", None, 1050)
    ws.write_comment("A1", "A comment the writer must keep")
    ws.conditional_format("B2:B7", {"type": "data_bar", "data_bar_2010": True})  # x14 extension
    ws.conditional_format(
        "B2:B7",
        {"type": "cell", "criteria": "<", "value": 0, "format": wb.add_format({"font_color": "#9C0006"})},
    )
    ws.data_validation("C2:C7", {"validate": "list", "source": ["shared string", "other"]})
    wb.define_name("Amounts", "=Data!$B$2:$B$7")
    wb.define_name("Data!LocalName", "=Data!$A$1")
    chart = wb.add_chart({"type": "column"})
    chart.add_series({"categories": "=Data!$A$2:$A$7", "values": "=Data!$B$2:$B$7"})
    ws.insert_chart("E2", chart)
    if vba is not None:
        wb.add_vba_project(io.BytesIO(vba), is_stream=True)
        ws.insert_button("E20", {"macro": "SampleCall", "caption": "Run", "width": 80, "height": 30})
    other = wb.add_worksheet("Program")
    other.write_row(0, 0, ["Setting", "Value"])
    wb.close()


EXTERNAL_LINK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<externalBook r:id="rId1"><sheetNames><sheetName val="Rates"/></sheetNames>'
    '<sheetDataSet><sheetData sheetId="0"><row r="1"><cell r="A1"><v>1.1</v></cell></row></sheetData>'
    "</sheetDataSet></externalBook></externalLink>"
)
EXTERNAL_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'externalLinkPath" Target="rates.xlsx" TargetMode="External"/></Relationships>'
)
CUSTOM_XML = (
    '<?xml version="1.0" encoding="UTF-8"?><budget xmlns="urn:example:budget"><owner>Finance</owner></budget>'
)
CUSTOM_PROPS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
    '<ds:datastoreItem ds:itemID="{6F1B6F7A-8A4E-4C1B-9E0B-3C2D5E6F7A8B}" '
    'xmlns:ds="http://schemas.openxmlformats.org/officeDocument/2006/customXml">'
    '<ds:schemaRefs><ds:schemaRef ds:uri="urn:example:budget"/></ds:schemaRefs></ds:datastoreItem>'
)
CUSTOM_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'customXmlProps" Target="itemProps1.xml"/></Relationships>'
)
CALC_CHAIN = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<c r="B8" i="1"/></calcChain>'
)
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def add_parts(data: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            text = src.read(info.filename)
            if info.filename == "[Content_Types].xml":
                text = text.replace(
                    b"</Types>",
                    (
                        b'<Override PartName="/xl/externalLinks/externalLink1.xml" ContentType="application/'
                        b'vnd.openxmlformats-officedocument.spreadsheetml.externalLink+xml"/>'
                        b'<Override PartName="/customXml/itemProps1.xml" ContentType="application/'
                        b'vnd.openxmlformats-officedocument.customXmlProperties+xml"/>'
                        b'<Override PartName="/xl/calcChain.xml" ContentType="application/'
                        b'vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>'
                    ),
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                text = text.replace(
                    b"</Relationships>",
                    (
                        f'<Relationship Id="rId90" Type="{R}/externalLink" '
                        'Target="externalLinks/externalLink1.xml"/>'
                        f'<Relationship Id="rId91" Type="{R}/customXml" Target="../customXml/item1.xml"/>'
                        f'<Relationship Id="rId92" Type="{R}/calcChain" Target="calcChain.xml"/>'
                        "</Relationships>"
                    ).encode(),
                )
            elif info.filename == "xl/workbook.xml":
                text = text.replace(
                    b"</sheets>",
                    b'</sheets><externalReferences><externalReference r:id="rId90"/></externalReferences>',
                )
            dst.writestr(zipfile.ZipInfo(info.filename, (2026, 1, 1, 0, 0, 0)), text, zipfile.ZIP_DEFLATED)
        for name, text in (
            ("xl/externalLinks/externalLink1.xml", EXTERNAL_LINK),
            ("xl/externalLinks/_rels/externalLink1.xml.rels", EXTERNAL_RELS),
            ("customXml/item1.xml", CUSTOM_XML),
            ("customXml/itemProps1.xml", CUSTOM_PROPS),
            ("customXml/_rels/item1.xml.rels", CUSTOM_RELS),
            ("xl/calcChain.xml", CALC_CHAIN),
        ):
            dst.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), text, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def main() -> None:
    vba = zipfile.ZipFile(VBA_SOURCE).read("xl/vbaProject.bin")
    for name, project in (("features.xlsm", vba), ("features.xlsx", None)):
        buf = io.BytesIO()
        body(buf, project)
        (HERE / name).write_bytes(add_parts(buf.getvalue()))
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
