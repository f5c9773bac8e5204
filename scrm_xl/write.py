"""Write the ROI, KPI, Ledger and Checks sheets into an existing .xlsx/.xlsm by
editing its package surgically (see docs/writeback.md).

Every zip entry that is not ours is copied byte for byte (its local header and
compressed data are copied raw, never recompressed). We edit only
``[Content_Types].xml``, the workbook part and its relationships, the styles
part (appending formats), ``docProps/app.xml`` (the sheet list) and drop
``calcChain.xml``. Our own parts (four worksheets, one drawing, two charts) go
at the end of the zip with a fixed timestamp, so running twice gives exactly
the bytes of running once.
"""

from __future__ import annotations

import io
import math
import os
import posixpath
import queue
import re
import stat
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import chain, repeat
from pathlib import Path

from lxml import etree

from .bulk import paused_gc
from .files import WriteError, replacing
from .layout import Cell, Chart, Layout, PageSetup, RowBlock, SheetLayout, Style, layout
from .model import Issue, column_letter
from .results import Results
from .schema import OUTPUT_SHEETS

# --- errors the CLI turns into one-line messages (WriteError itself is in files.py) ------


class NotAWorkbook(WriteError):
    pass


class WorkbookLocked(WriteError):
    pass


class SheetNotOurs(WriteError):
    """The user has a sheet of their own with one of our names."""

    exit_code = 1


# --- OOXML names ------------------------------------------------------------------

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
EP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
RT_OFFICE_DOC = REL_NS + "/officeDocument"
RT_WORKSHEET = REL_NS + "/worksheet"
RT_STYLES = REL_NS + "/styles"
RT_CALC_CHAIN = REL_NS + "/calcChain"
RT_DRAWING = REL_NS + "/drawing"
RT_CHART = REL_NS + "/chart"
RT_APP = REL_NS + "/extended-properties"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_DRAWING = "application/vnd.openxmlformats-officedocument.drawing+xml"
CT_CHART = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"

MARK_NAME = "_scrm_xl_owned"  # sheet-local hidden defined name: "this sheet is scrm_xl's"
MARK_VALUE = '"scrm_xl output: replaced on every run"'
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
XML_DECL = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


# --- public entry point ---------------------------------------------------------------


def write_results(
    book_path: str | os.PathLike,
    results: Results,
    *,
    out_path: str | os.PathLike | None = None,
) -> list[Issue]:
    """Add or replace the four output sheets in ``book_path`` (or write a copy to
    ``out_path``, leaving the input untouched). Returns the layout's issues; raises
    a WriteError subclass when the workbook cannot be written."""
    book = Path(book_path)
    target = Path(out_path) if out_path is not None else book
    for path in {book, target}:
        _refuse_if_locked(path)
    with paused_gc():  # the Ledger's rows are made a chunk at a time beside a million live results
        return _write(book, target, results)


def _write(book: Path, target: Path, results: Results) -> list[Issue]:
    lay, issues = layout(results)
    try:
        data = book.read_bytes()
    except OSError as exc:
        raise NotAWorkbook(f"{book}: cannot read the file ({exc.strerror or exc})") from exc
    package = _Package(data, str(book))
    new_parts = _edit(package, lay)
    with replacing(target, mode=stat.S_IMODE(book.stat().st_mode)) as tmp, open(tmp, "wb") as fh:
        package.save(fh, new_parts)
    return issues


def _refuse_if_locked(path: Path) -> None:
    # Excel's owner file is "~$" + name; for long names it replaces the first two characters.
    for lock in (path.with_name("~$" + path.name), path.with_name("~$" + path.name[2:])):
        if lock.exists():
            raise WorkbookLocked(
                f"{path}: the workbook is open in Excel ({lock.name} exists); close it and retry"
            )


# --- the zip package, read raw ------------------------------------------------------


@dataclass
class _Entry:
    name: str
    local: memoryview  # local header + compressed data (+ data descriptor), exactly as in the source
    central: bytes  # the central directory record, exactly as in the source


class _Package:
    """A zip read at the byte level so that untouched entries can be copied raw."""

    def __init__(self, data: bytes, label: str) -> None:
        self.label = label
        try:
            self.zip = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile as exc:
            raise NotAWorkbook(f"{label}: not an Excel workbook (.xlsx/.xlsm are zip packages)") from exc
        self.entries = self._scan(data)
        self.by_lower = {e.name.lower(): e.name for e in self.entries}
        self.replaced: dict[str, bytes] = {}
        self.deleted: set[str] = set()

    def _scan(self, data: bytes) -> list[_Entry]:
        end = data.rfind(b"PK\x05\x06")
        if end < 0:
            raise NotAWorkbook(f"{self.label}: not an Excel workbook (no zip directory)")
        _, _, _, _, count, cd_size, cd_offset, _ = struct.unpack("<4s4H2LH", data[end : end + 22])
        if count == 0xFFFF or cd_offset == 0xFFFFFFFF or data.rfind(b"PK\x06\x07", 0, end) >= 0:
            raise NotAWorkbook(f"{self.label}: ZIP64 workbooks (over 4 GB) are not supported")
        entries, pos = [], cd_offset
        view = memoryview(data)  # entries are slices of the file, not copies of it
        for _ in range(count):
            fields = struct.unpack("<4s6H3L5H2L", data[pos : pos + 46])
            flags, csize, nlen, elen, clen, offset = (
                fields[3],
                fields[8],
                fields[10],
                fields[11],
                fields[12],
                fields[16],
            )
            raw_name = data[pos + 46 : pos + 46 + nlen]
            name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
            central = data[pos : pos + 46 + nlen + elen + clen]
            pos += len(central)
            lnlen, lelen = struct.unpack("<2H", data[offset + 26 : offset + 30])
            stop = offset + 30 + lnlen + lelen + csize
            if flags & 0x08:
                stop += 16 if data[stop : stop + 4] == b"PK\x07\x08" else 12
            entries.append(_Entry(name, view[offset:stop], central))
        return entries

    # parts are addressed by name without the leading slash, case-insensitively (OPC)
    def has(self, part: str) -> bool:
        return part.lower() in self.by_lower and self.by_lower[part.lower()] not in self.deleted

    def read(self, part: str) -> bytes:
        name = self.by_lower[part.lower()]
        if name in self.replaced:
            return self.replaced[name]
        return self.zip.read(name)

    def xml(self, part: str) -> etree._Element:
        parser = etree.XMLParser(
            remove_blank_text=False, resolve_entities=False, no_network=True, huge_tree=True
        )
        return etree.fromstring(self.read(part), parser)

    def put_xml(self, part: str, root: etree._Element) -> None:
        self.replaced[self.by_lower[part.lower()]] = XML_DECL + etree.tostring(root, encoding="UTF-8")

    def delete(self, part: str) -> None:
        if self.has(part):
            self.deleted.add(self.by_lower[part.lower()])

    def save(self, fh, new_parts: list[tuple[str, Part]]) -> None:
        centrals, offset = [], 0
        for e in self.entries:
            if e.name in self.deleted:
                continue
            if e.name in self.replaced:
                local, central = _deflated(e.name, self.replaced[e.name], e.central)
            else:
                local, central = e.local, e.central
            central = central[:42] + struct.pack("<L", offset) + central[46:]
            fh.write(local)
            centrals.append(central)
            offset += len(local)
        for name, data in new_parts:
            if isinstance(data, bytes):
                local, central = _deflated(name, data, None)
                fh.write(local)
                size = len(local)
            else:
                size, central = _deflate_stream(fh, name, data)
            centrals.append(central[:42] + struct.pack("<L", offset) + central[46:])
            offset += size
        if offset >= 0xFFFFFFFF or len(centrals) >= 0xFFFF:
            raise WriteError(f"{self.label}: the result would need ZIP64 (over 4 GB); not supported")
        cd = b"".join(centrals)
        fh.write(cd)
        fh.write(
            struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(centrals), len(centrals), len(cd), offset, 0)
        )


# a new part: its bytes, or chunks of them made on demand (a large Ledger is never one string)
Part = bytes | Iterable[bytes]


def _deflated(name: str, data: bytes, source_central: bytes | None) -> tuple[bytes, bytes]:
    """A freshly compressed entry; keeps the source entry's timestamp and attributes."""
    comp = zlib.compressobj(6, zlib.DEFLATED, -15)
    packed = comp.compress(data) + comp.flush()
    header, central = _headers(name, zlib.crc32(data), len(packed), len(data), source_central)
    return header + packed, central


def _deflate_stream(fh, name: str, chunks: Iterable[bytes]) -> tuple[int, bytes]:
    """Compress ``chunks`` straight into ``fh``, then fill in the local header's CRC and sizes.
    Same bytes as ``_deflated`` on the joined data; returns (entry size, central record).

    The chunks are made (Python, holding the GIL) in this thread while a second thread
    checksums, deflates and writes the ones already made: zlib and file writes release the
    GIL, so a long Ledger's XML and its compression run on two cores at once."""
    if not fh.seekable():
        data = b"".join(chunks)
        local, central = _deflated(name, data, None)
        fh.write(local)
        return len(local), central
    start = fh.tell()
    placeholder, _ = _headers(name, 0, 0, 0, None)
    fh.write(placeholder)
    packer = _Packer(fh)
    try:
        for chunk in chunks:
            packer.put(chunk)
    finally:
        crc, packed, size = packer.close()
    header, central = _headers(name, crc, packed, size, None)
    end = fh.tell()
    fh.seek(start)
    fh.write(header)
    fh.seek(end)
    return end - start, central


class _Packer:
    """A thread that deflates chunks into a file in the order they were put. ``close()``
    waits for it and re-raises what it met (a full disk, say); ``put()`` raises it too, so
    the producer stops early. A producer's own error still closes the thread."""

    def __init__(self, fh) -> None:
        self.fh = fh
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=4)  # ~4 MB in flight
        self.crc = self.packed = self.size = 0
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="scrm_xl-deflate", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        chunk = b""
        try:
            while (chunk := self.queue.get()) is not None:
                self.crc = zlib.crc32(chunk, self.crc)
                self.size += len(chunk)
                self._write(comp.compress(chunk))
            self._write(comp.flush())
        except BaseException as exc:  # handed to the producer by put() and close()
            self.error = exc
            while chunk is not None:  # take what the producer still puts, up to its end
                chunk = self.queue.get()

    def _write(self, out: bytes) -> None:
        self.packed += len(out)
        self.fh.write(out)

    def put(self, chunk: bytes) -> None:
        if self.error is not None:
            raise self.error
        self.queue.put(chunk)

    def close(self) -> tuple[int, int, int]:
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.crc, self.packed, self.size


def _headers(
    name: str, crc: int, packed: int, size: int, source_central: bytes | None
) -> tuple[bytes, bytes]:
    """The local header and the central directory record of a deflated entry."""
    raw_name = name.encode("utf-8")
    flags = 0 if raw_name.isascii() else 0x800
    if source_central is not None:
        made, dos_time, dos_date = (
            struct.unpack("<H", source_central[4:6])[0],
            *struct.unpack("<2H", source_central[12:16]),
        )
        ext_attr = struct.unpack("<L", source_central[38:42])[0]
    else:
        y, mo, d, h, mi, s = FIXED_TIME
        made, dos_time, dos_date, ext_attr = (
            20,
            (h << 11) | (mi << 5) | (s // 2),
            ((y - 1980) << 9) | (mo << 5) | d,
            0,
        )
    local = (
        struct.pack(
            "<4s5H3L2H",
            b"PK\x03\x04",
            20,
            flags,
            8,
            dos_time,
            dos_date,
            crc,
            packed,
            size,
            len(raw_name),
            0,
        )
        + raw_name
    )
    central = (
        struct.pack(
            "<4s6H3L5H2L",
            b"PK\x01\x02",
            made,
            20,
            flags,
            8,
            dos_time,
            dos_date,
            crc,
            packed,
            size,
            len(raw_name),
            0,
            0,
            0,
            0,
            ext_attr,
            0,
        )
        + raw_name
    )
    return local, central


# --- relationships ---------------------------------------------------------------------


def _rels_part(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def _resolve(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def _rels(pkg: _Package, part: str) -> list[tuple[str, str, str]]:
    """(Id, Type, resolved part) of the part's internal relationships."""
    rels_part = _rels_part(part)
    if not pkg.has(rels_part):
        return []
    out = []
    for rel in pkg.xml(rels_part).iter(_q(PKG_REL, "Relationship")):
        if rel.get("TargetMode") == "External":
            continue
        out.append((rel.get("Id"), rel.get("Type"), _resolve(part, rel.get("Target"))))
    return out


# --- the edit ------------------------------------------------------------------------------


def _edit(pkg: _Package, lay: Layout) -> list[tuple[str, Part]]:
    if not pkg.has("[Content_Types].xml"):
        raise NotAWorkbook(f"{pkg.label}: not an Excel workbook (no [Content_Types].xml)")
    office = [p for _, t, p in _rels(pkg, "") if t == RT_OFFICE_DOC]
    if not office or not pkg.has(office[0]):
        raise NotAWorkbook(f"{pkg.label}: not an Excel workbook (no workbook part)")
    wb_part = office[0]
    wb_rels_part = _rels_part(wb_part)
    wb = pkg.xml(wb_part)
    if wb.tag != _q(MAIN, "workbook"):
        raise NotAWorkbook(f"{pkg.label}: not an Excel workbook (Strict OOXML or another format)")
    wb_rels = pkg.xml(wb_rels_part)
    rel_by_id = {r.get("Id"): r for r in wb_rels}
    sheets_el = wb.find(_q(MAIN, "sheets"))
    sheet_els = list(sheets_el)
    names = wb.find(_q(MAIN, "definedNames"))
    marked = set()
    if names is not None:
        for dn in names:
            if dn.get("name") == MARK_NAME and dn.get("localSheetId") is not None:
                marked.add(int(dn.get("localSheetId")))

    # which of our sheets exist already, and are they ours?
    ours_lower = {n.lower(): n for n in OUTPUT_SHEETS}
    existing: dict[str, int] = {}
    for index, sh in enumerate(sheet_els):
        lower = (sh.get("name") or "").lower()
        if lower in ours_lower:
            if index not in marked:
                raise SheetNotOurs(
                    f"{pkg.label}: the workbook has its own sheet named '{sh.get('name')}'; scrm_xl writes "
                    "its results to a sheet of that name and never overwrites yours. "
                    "Rename your sheet and run again."
                )
            existing[ours_lower[lower]] = index

    # drop the old output sheets' parts (and what only they reach: drawings, charts)
    old_parts: set[str] = set()
    for index in existing.values():
        rid = sheet_els[index].get(_q(REL_NS, "id"))
        rel = rel_by_id.get(rid)
        if rel is not None:
            old_parts |= _reachable(pkg, _resolve(wb_part, rel.get("Target")))
            wb_rels.remove(rel)
    old_parts -= _referenced_elsewhere(pkg, old_parts)
    for part in old_parts:
        pkg.delete(part)
        pkg.delete(_rels_part(part))

    # calcChain lists formula cells of sheets that may be gone; Excel rebuilds it
    for rel in list(wb_rels):
        if rel.get("Type") == RT_CALC_CHAIN:
            pkg.delete(_resolve(wb_part, rel.get("Target")))
            wb_rels.remove(rel)

    folder = posixpath.dirname(wb_part)
    style_ids = _merge_styles(pkg, wb_part, wb_rels, lay)
    new_parts: list[tuple[str, Part]] = []
    content_types: list[tuple[str, str]] = []
    used_ids = [int(s.get("sheetId")) for s in sheet_els if (s.get("sheetId") or "").isdigit()]
    next_id = max(used_ids, default=0)
    for sheet in lay.sheets:
        slug = sheet.name.lower()
        part = posixpath.join(folder, "worksheets", f"scrm_xl_{slug}.xml")
        rid = f"rIdScrmXl{sheet.name}"
        drawing_rel = None
        if sheet.charts:
            drawing_rel = "rIdScrmXlDrawing"
            drawing_parts = _chart_parts(sheet, folder, slug)
            new_parts += drawing_parts[:-1]
            content_types += drawing_parts[-1]
            sheet_rels = _rels_xml([(drawing_rel, RT_DRAWING, f"../drawings/scrm_xl_{slug}_drawing.xml")])
            new_parts.append((_rels_part(part), sheet_rels))
        new_parts.append((part, _sheet_xml(sheet, style_ids, drawing_rel)))
        content_types.append((part, CT_WORKSHEET))
        rel = etree.SubElement(wb_rels, _q(PKG_REL, "Relationship"))
        rel.set("Id", rid)
        rel.set("Type", RT_WORKSHEET)
        rel.set("Target", posixpath.relpath(part, folder) if folder else part)
        if sheet.name in existing:
            old = sheet_els[existing[sheet.name]]
            old.set("name", sheet.name)
            old.set(_q(REL_NS, "id"), rid)
            old.attrib.pop("state", None)  # never leave a results sheet hidden
        else:
            next_id += 1
            el = etree.SubElement(sheets_el, _q(MAIN, "sheet"))
            el.set("name", sheet.name)
            el.set("sheetId", str(next_id))
            el.set(_q(REL_NS, "id"), rid)
    order = {s.get("name"): i for i, s in enumerate(sheets_el)}
    _set_marks(wb, [order[s.name] for s in lay.sheets], list(lay.sheets))
    _set_full_calc(wb)
    pkg.put_xml(wb_part, wb)
    pkg.put_xml(wb_rels_part, wb_rels)
    _edit_content_types(pkg, content_types)
    _edit_app(pkg, [s.get("name") for s in sheets_el])
    return new_parts


def _reachable(pkg: _Package, part: str) -> set[str]:
    seen, todo = set(), [part]
    while todo:
        p = todo.pop()
        if p in seen or not pkg.has(p):
            continue
        seen.add(p)
        todo += [t for _, _, t in _rels(pkg, p)]
    return seen


def _referenced_elsewhere(pkg: _Package, parts: set[str]) -> set[str]:
    """Parts of ``parts`` that some other part (not in ``parts``) still points to."""
    lowered = {p.lower(): p for p in parts}
    keep = set()
    for name in pkg.by_lower.values():
        if not name.endswith(".rels") or name in pkg.deleted:
            continue
        folder = posixpath.dirname(posixpath.dirname(name))
        source = posixpath.join(folder, posixpath.basename(name)[: -len(".rels")])
        if source.lower() in lowered:
            continue
        for _, _, target in _rels(pkg, source):
            if target.lower() in lowered and not name.lower().endswith("workbook.xml.rels"):
                keep.add(lowered[target.lower()])
    return keep


def _rels_xml(rels: list[tuple[str, str, str]]) -> bytes:
    root = etree.Element(_q(PKG_REL, "Relationships"), nsmap={None: PKG_REL})
    for rid, rtype, target in rels:
        etree.SubElement(root, _q(PKG_REL, "Relationship"), Id=rid, Type=rtype, Target=target)
    return XML_DECL + etree.tostring(root, encoding="UTF-8")


# CT_Workbook's child order: definedNames and calcPr must sit in their place
_WB_ORDER = (
    "fileVersion",
    "fileSharing",
    "workbookPr",
    "workbookProtection",
    "bookViews",
    "sheets",
    "functionGroups",
    "externalReferences",
    "definedNames",
    "calcPr",
    "oleSize",
    "customWorkbookViews",
    "pivotCaches",
    "smartTagPr",
    "smartTagTypes",
    "webPublishing",
    "fileRecoveryPr",
    "webPublishObjects",
    "extLst",
)


def _child(parent: etree._Element, tag: str, order: tuple[str, ...]) -> etree._Element:
    found = parent.find(_q(MAIN, tag))
    if found is not None:
        return found
    el = etree.Element(_q(MAIN, tag))
    rank = order.index(tag)
    for i, c in enumerate(parent):
        if isinstance(c.tag, str) and etree.QName(c).localname in order[rank + 1 :]:
            parent.insert(i, el)
            return el
    parent.append(el)
    return el


PRINT_TITLES = "_xlnm.Print_Titles"


def _set_marks(wb: etree._Element, indices: list[int], sheets: list[SheetLayout]) -> None:
    """Our ownership marks and our sheets' print titles (rows repeated on every printed page);
    old ones are removed first, so a second run writes the same names in the same order."""
    names = _child(wb, "definedNames", _WB_ORDER)
    ours = {str(i) for i in indices}
    for dn in list(names):
        if dn.get("name") == MARK_NAME or (dn.get("name") == PRINT_TITLES and dn.get("localSheetId") in ours):
            names.remove(dn)
    for index in sorted(indices):
        dn = etree.SubElement(names, _q(MAIN, "definedName"))
        dn.set("name", MARK_NAME)
        dn.set("localSheetId", str(index))
        dn.set("hidden", "1")
        dn.text = MARK_VALUE
    for index, sheet in sorted(zip(indices, sheets, strict=True), key=lambda p: p[0]):
        if sheet.page.repeat_rows:
            first, last = sheet.page.repeat_rows
            dn = etree.SubElement(names, _q(MAIN, "definedName"))
            dn.set("name", PRINT_TITLES)
            dn.set("localSheetId", str(index))
            dn.text = f"{_sheet_ref(sheet.name)}!${first}:${last}"


def _sheet_ref(name: str) -> str:
    return name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) else "'" + name.replace("'", "''") + "'"


def _set_full_calc(wb: etree._Element) -> None:
    calc = _child(wb, "calcPr", _WB_ORDER)
    calc.set("fullCalcOnLoad", "1")


def _edit_content_types(pkg: _Package, added: list[tuple[str, str]]) -> None:
    ct = pkg.xml("[Content_Types].xml")
    gone = {"/" + p.lower() for p in pkg.deleted} | {"/" + p.lower() for p, _ in added}
    for ov in list(ct.iter(_q(CT_NS, "Override"))):
        if (ov.get("PartName") or "").lower() in gone:
            ct.remove(ov)
    for part, ctype in added:
        etree.SubElement(ct, _q(CT_NS, "Override"), PartName="/" + part, ContentType=ctype)
    pkg.put_xml("[Content_Types].xml", ct)


_WORKSHEET_HEADINGS = {
    "worksheets",
    "arbeitsblätter",
    "feuilles de calcul",
    "hojas de cálculo",
    "fogli di lavoro",
    "werkbladen",
    "planilhas",
    "листы",
}


def _edit_app(pkg: _Package, sheet_names: list[str]) -> None:
    """docProps/app.xml lists sheet names for file browsers; keep ours in it."""
    parts = [p for _, t, p in _rels(pkg, "") if t == RT_APP]
    if not parts or not pkg.has(parts[0]):
        return
    app = pkg.xml(parts[0])
    pairs = app.find(f"{{{EP_NS}}}HeadingPairs/{{{VT_NS}}}vector")
    titles = app.find(f"{{{EP_NS}}}TitlesOfParts/{{{VT_NS}}}vector")
    if pairs is None or titles is None:
        return
    variants = list(pairs)
    start = 0
    for k in range(0, len(variants) - 1, 2):
        label = variants[k].findtext(f"{{{VT_NS}}}lpstr") or ""
        count_el = variants[k + 1].find(f"{{{VT_NS}}}i4")
        if count_el is None:
            return
        count = int(count_el.text or 0)
        if label.lower() in _WORKSHEET_HEADINGS:
            items = list(titles)[start : start + count]
            present = {(i.text or "").lower() for i in items}
            missing = [n for n in OUTPUT_SHEETS if n.lower() not in present]
            anchor = items[-1] if items else None
            for name in missing:
                el = etree.Element(f"{{{VT_NS}}}lpstr")
                el.text = name
                if anchor is None:
                    titles.insert(start, el)
                else:
                    anchor.addnext(el)
                anchor = el
            count_el.text = str(count + len(missing))
            titles.set("size", str(len(titles)))
            pkg.put_xml(parts[0], app)
            return
        start += count


# --- styles: append what we need, reuse what is already there -------------------------------

_STYLE_ORDER = (
    "numFmts",
    "fonts",
    "fills",
    "borders",
    "cellStyleXfs",
    "cellXfs",
    "cellStyles",
    "dxfs",
    "tableStyles",
    "colors",
    "extLst",
)
_BUILTIN_FORMATS = {"General": 0, "0": 1, "0.00": 2, "#,##0": 3, "#,##0.00": 4, "0%": 9, "0.00%": 10}


def _key(el: etree._Element) -> tuple:
    return (
        etree.QName(el).localname,
        tuple(sorted(el.attrib.items())),
        (el.text or "").strip(),
        tuple(_key(c) for c in el if isinstance(c.tag, str)),
    )


class _Pool:
    """One list of styles.xml (fonts, fills, borders, cellXfs) with the index of each entry by
    content, so an entry equal to one already there is reused (the first of equals), and each
    entry's key is computed once, however many styles an Excel-saved workbook already has."""

    def __init__(self, container: etree._Element):
        self.container = container
        self.index: dict[tuple, int] = {}
        self.count = 0
        for c in container:
            if isinstance(c.tag, str):
                self.index.setdefault(_key(c), self.count)
                self.count += 1

    def add(self, el: etree._Element) -> int:
        """The index of an entry equal to ``el``, appending ``el`` when there is none."""
        key = _key(el)
        found = self.index.get(key)
        if found is not None:
            return found
        self.container.append(el)
        self.index[key] = self.count
        self.count += 1
        self.container.set("count", str(self.count))
        return self.count - 1


def _merge_styles(pkg: _Package, wb_part: str, wb_rels: etree._Element, lay: Layout) -> dict[str, int]:
    parts = [_resolve(wb_part, r.get("Target")) for r in wb_rels if r.get("Type") == RT_STYLES]
    if not parts or not pkg.has(parts[0]):
        raise NotAWorkbook(f"{pkg.label}: the workbook has no styles part; open and save it in Excel first")
    part = parts[0]
    ss = pkg.xml(part)
    E = lambda tag, **attrs: etree.Element(_q(MAIN, tag), {k: str(v) for k, v in attrs.items()})  # noqa: E731
    numfmts = _child(ss, "numFmts", _STYLE_ORDER)
    font_list = _child(ss, "fonts", _STYLE_ORDER)
    fonts = _Pool(font_list)
    fills = _Pool(_child(ss, "fills", _STYLE_ORDER))
    borders = _Pool(_child(ss, "borders", _STYLE_ORDER))
    xfs = _Pool(_child(ss, "cellXfs", _STYLE_ORDER))
    base_font = next((c for c in font_list if isinstance(c.tag, str)), None)
    font_tail = [
        c
        for c in (base_font if base_font is not None else [])
        if etree.QName(c).localname in ("name", "family", "charset", "scheme")
    ]
    ids: dict[str, int] = {}
    for name, st in lay.styles.items():
        ids[name] = xfs.add(_xf(E, st, numfmts, fonts, fills, borders, font_tail))
    if len(numfmts) == 0:
        ss.remove(numfmts)
    else:
        numfmts.set("count", str(len(numfmts)))
    pkg.put_xml(part, ss)
    return ids


def _xf(E, st: Style, numfmts, fonts: _Pool, fills: _Pool, borders: _Pool, font_tail) -> etree._Element:
    fmt_id = _BUILTIN_FORMATS.get(st.num_format)
    if fmt_id is None:
        for nf in numfmts:
            if nf.get("formatCode") == st.num_format:
                fmt_id = int(nf.get("numFmtId"))
                break
        else:
            fmt_id = (
                max([163] + [int(n.get("numFmtId")) for n in numfmts if (n.get("numFmtId") or "").isdigit()])
                + 1
            )
            numfmts.append(E("numFmt", numFmtId=fmt_id, formatCode=st.num_format))
    font = E("font")
    if st.bold:
        font.append(E("b"))
    if st.italic:
        font.append(E("i"))
    font.append(E("sz", val=_num(st.size)))
    if st.color:
        font.append(E("color", rgb="FF" + st.color))
    for c in font_tail:
        font.append(E(etree.QName(c).localname, **dict(c.attrib)))
    fill = E("fill")
    if st.fill:
        pattern = E("patternFill", patternType="solid")
        pattern.append(E("fgColor", rgb="FF" + st.fill))
        pattern.append(E("bgColor", indexed=64))
        fill.append(pattern)
    else:
        fill.append(E("patternFill", patternType="none"))
    border = E("border")
    for side, on in (
        ("left", False),
        ("right", False),
        ("top", st.border_top),
        ("bottom", st.border_bottom),
        ("diagonal", False),
    ):
        el = E(side, style="thin") if on else E(side)
        if on:
            el.append(E("color", auto=1))
        border.append(el)
    xf = E(
        "xf",
        numFmtId=fmt_id,
        fontId=fonts.add(font),
        fillId=fills.add(fill),
        borderId=borders.add(border),
        xfId=0,
        applyNumberFormat=1,
        applyFont=1,
        applyFill=1,
        applyBorder=1,
    )
    if st.wrap or st.align:
        xf.set("applyAlignment", "1")
        align = E("alignment", vertical="top")
        if st.align:
            align.set("horizontal", st.align)
        if st.wrap:
            align.set("wrapText", "1")
        xf.append(align)
    return xf


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


# --- worksheet XML -----------------------------------------------------------------------------

_ESCAPE_LITERAL = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_NEEDS_ESCAPE = re.compile("[\x00-\x08\x0b-\x1f\r\ud800-\udfff\ufffe\uffff]")
_ANY_SPECIAL = re.compile("[\x00-\x08\x0b-\x1f\r\ud800-\udfff\ufffe\uffff&<>]|_x")


def escape_text(text: str) -> str:
    """ECMA-376 ST_Xstring escaping, then XML escaping: control characters, CR and
    characters XML cannot carry become ``_xHHHH_``; a literal ``_xHHHH_`` is kept
    literal by escaping its underscore (``_x005F_``)."""
    if not _ANY_SPECIAL.search(text):  # the common case, a million times over in a long Ledger
        return text
    text = _ESCAPE_LITERAL.sub(r"_x005F_\1", text)
    text = _NEEDS_ESCAPE.sub(lambda m: f"_x{ord(m.group()):04X}_", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _xml_attr(text: str) -> str:
    return escape_text(text).replace('"', "&quot;")


EPOCH = date(1899, 12, 30).toordinal()


def _number(value) -> str | None:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, date):
        return str(value.toordinal() - EPOCH)
    if isinstance(value, int):
        return str(value)
    f = float(value)
    if not math.isfinite(f):
        return None
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)


def _text_element(v: str) -> str:
    """An inline string's ``<t>``: escaped, with its leading or trailing spaces, tabs and line
    breaks kept (Excel drops them otherwise)."""
    space = ' xml:space="preserve"' if v != v.strip() or "\n" in v or "\t" in v else ""
    return f"<t{space}>{escape_text(v)}</t>"


def _cell_xml(c, s: int) -> str:
    ref = f"{column_letter(c.col)}{c.row}"
    v = c.value
    if c.formula is not None:
        f = escape_text(c.formula)
        if v is None or isinstance(v, str):
            return f'<c r="{ref}" s="{s}" t="str"><f>{f}</f><v>{escape_text(v or "")}</v></c>'
        num = _number(v)
        return f'<c r="{ref}" s="{s}"><f>{f}</f>' + (f"<v>{num}</v>" if num is not None else "") + "</c>"
    if v is None or v == "":
        return f'<c r="{ref}" s="{s}"/>'
    if isinstance(v, str):
        return f'<c r="{ref}" s="{s}" t="inlineStr"><is>{_text_element(v)}</is></c>'
    if isinstance(v, (Decimal, float, int, date)):
        num = _number(v)
        return f'<c r="{ref}" s="{s}"><v>{num}</v></c>' if num is not None else f'<c r="{ref}" s="{s}"/>'
    return f'<c r="{ref}" s="{s}" t="inlineStr"><is><t>{escape_text(str(v))}</t></is></c>'


CHUNK_CELLS = 20_000  # pieces of XML per chunk, about a megabyte


def _sheet_xml(sheet: SheetLayout, style_ids: dict[str, int], drawing_rel: str | None) -> Iterator[bytes]:
    """The worksheet part in chunks of about a megabyte: the cells are made and written one
    row batch at a time, so memory stays flat however long the Ledger is."""
    out = [
        XML_DECL.decode(),
        f'<worksheet xmlns="{MAIN}" xmlns:r="{REL_NS}">',
        '<sheetPr><tabColor rgb="FF1F4E79"/>'
        + ('<pageSetUpPr fitToPage="1"/>' if sheet.page.fit_width or sheet.page.fit_height else "")
        + "</sheetPr>",
    ]
    if sheet.extent:
        last_row, last_col = sheet.extent
        out.append(f'<dimension ref="A1:{column_letter(last_col)}{last_row}"/>')
    out.append('<sheetViews><sheetView workbookViewId="0">')
    if sheet.freeze:
        row, col = sheet.freeze
        xs, ys = col - 1, row - 1
        pane = "bottomRight" if xs and ys else ("bottomLeft" if ys else "topRight")
        split = (f' xSplit="{xs}"' if xs else "") + (f' ySplit="{ys}"' if ys else "")
        top_left = f"{column_letter(col)}{row}"
        out.append(f'<pane{split} topLeftCell="{top_left}" activePane="{pane}" state="frozen"/>')
        out.append(f'<selection pane="{pane}" activeCell="{top_left}" sqref="{top_left}"/>')
    out.append('</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>')
    if sheet.widths:
        out.append("<cols>")
        out += [f'<col min="{c}" max="{c}" width="{_num(w)}" customWidth="1"/>' for c, w in sheet.widths]
        out.append("</cols>")
    out.append("<sheetData>")
    yield "".join(out).encode("utf-8")
    out = []
    heights = dict(sheet.heights)
    current = None
    block = getattr(sheet.cells, "body", None)
    if isinstance(block, RowBlock) and all(c.row < block.first_row for c in sheet.cells.head):
        cells: Iterable = sheet.cells.head  # the block's rows are rendered below, without Cells
    else:
        cells, block = sheet.cells, None
    for c in cells:
        if c.row != current:
            if current is not None:
                out.append("</row>")
            current = c.row
            ht = f' ht="{_num(heights[c.row])}" customHeight="1"' if c.row in heights else ""
            if len(out) > CHUNK_CELLS:
                yield "".join(out).encode("utf-8")
                out = []
            out.append(f'<row r="{c.row}"{ht}>')
        out.append(_cell_xml(c, style_ids[c.style]))
    if current is not None:
        out.append("</row>")
    if block is not None:
        yield "".join(out).encode("utf-8")
        out = []
        yield from _block_xml(block, style_ids, heights)
    out.append("</sheetData>")
    if sheet.merges:
        out.append(f'<mergeCells count="{len(sheet.merges)}">')
        out += [f'<mergeCell ref="{m}"/>' for m in sheet.merges]
        out.append("</mergeCells>")
    out += _page_xml(sheet.page)
    if drawing_rel:
        out.append(f'<drawing r:id="{drawing_rel}"/>')
    out.append("</worksheet>")
    yield "".join(out).encode("utf-8")


_MARKUP = re.compile("[&<>]|_x")
BLOCK_ROWS = 1_000  # rows turned into XML at a time, column by column (about 700 kB)


def _block_xml(block: RowBlock, style_ids: dict[str, int], heights: dict[int, float]) -> Iterator[bytes]:
    """A RowBlock's rows, the same cells as ``_cell_xml`` makes, made a thousand rows at a
    time and column by column: a column's values mostly share one type (a Ledger's IDs, types
    and dates repeat a million times), so each column's cells come from one comprehension with
    per-column prefixes made once and each distinct text escaped once; the row strings are
    then interleaved by ``zip``. Decimals are written as their own digits, which any reader
    parses to the same double as the float we would otherwise format.

    A cell carries no reference (``r`` is optional, ECMA-376 Part 1 §18.3.1.4): it is the
    column after the row's previous cell, or column A when it opens the row. Only a cell after
    a gap (the column before it has no value) names itself. Writing "F10", "G10", ... into
    every cell made the Ledger a quarter larger, and its row numbers, different in every row,
    made it compress four times worse."""
    columns = [_Column(k, style, style_ids[style]) for k, style in enumerate(block.styles)]
    r = block.first_row
    heights = {row: h for row, h in heights.items() if row >= r}  # the header's, usually: none left
    for chunk in block.columns(BLOCK_ROWS):
        count = len(chunk[0])
        numbers = [str(n) for n in range(r, r + count)]
        opens = [_row_open(n, heights) for n in numbers] if heights else [f'<row r="{n}">' for n in numbers]
        # the cells after a gap need the previous column's values; without gaps, they don't
        cells, before = [], None
        for col, values in zip(columns, chunk, strict=True):
            xml = col.xml(numbers, values, r, before)
            if xml is not None:  # None: no cell in this column, nothing to interleave
                cells.append(xml)
            before = values if col.gaps else None
        ends = ["</row>"] * count
        yield "".join(chain.from_iterable(zip(opens, *cells, ends, strict=True))).encode("utf-8")
        r += count


def _row_open(number: str, heights: dict[int, float]) -> str:
    height = heights.get(int(number))
    return (
        f'<row r="{number}">'
        if height is None
        else f'<row r="{number}" ht="{_num(height)}" customHeight="1">'
    )


class _Column:
    """One RowBlock column's cell XML, with the prefixes and caches it keeps across chunks."""

    def __init__(self, k: int, style: str, s: int) -> None:
        self.k, self.style, self.s = k, style, s
        self.anchor = f'<c r="{column_letter(k + 1)}'  # for a cell after a gap
        self.number = f' s="{s}"><v>'
        self.inline = f' s="{s}" t="inlineStr"><is><t>'  # a text cell written as it is, up to </t>
        self.texts: dict[str, str] = {}  # text -> the cell's XML after "<c"
        self.serials: dict[date, str] = {}
        self.gaps = False

    def xml(
        self, numbers: list[str], values: Sequence, first_row: int, before: Sequence | None
    ) -> list[str] | None:
        """The cells of ``values`` (rows numbered ``numbers``), or None when every value is None;
        ``before`` is the previous column's values in the same rows when some are None (a gap),
        else None. Notes in ``gaps`` whether ``values`` has a None, for the next column."""
        kinds = set(map(type, values))
        self.gaps = type(None) in kinds
        kinds.discard(type(None))
        if not kinds:  # the rows below a shorter Ledger panel, the cost lines' empty columns
            return None
        if before is None:
            heads: Iterable[str] = repeat("<c")
        else:  # a cell after a gap names itself
            a = self.anchor
            heads = ["<c" if b is not None else f'{a}{n}"' for n, b in zip(numbers, before, strict=True)]
        pairs = zip(heads, values, strict=False)  # heads may be an endless repeat
        if kinds == {str}:
            distinct = set(values)
            if len(distinct) > len(values) // 2:  # transaction refs, source cells: nothing to share
                distinct.discard(None)
                if _as_they_are(distinct):  # the common case, checked for the whole column at once
                    head = self.inline
                    return [f"{h}{head}{v}</t></is></c>" if v is not None else "" for h, v in pairs]
                text = self._text
                return [h + text(v) if v is not None else "" for h, v in pairs]
            tails = self.texts  # IDs, types, periods: a few hundred texts a million times over
            if len(tails) > 10_000:
                tails.clear()
            new = distinct.difference(tails)
            new.discard(None)
            if _as_they_are(new):  # checked at once: at 1M, 350,000 refs come this way
                tails.update({v: f"{self.inline}{v}</t></is></c>" for v in new})
            else:
                tails.update({v: self._text(v) for v in new})
            return [h + tails[v] if v is not None else "" for h, v in pairs]
        if kinds == {Decimal} and all(map(Decimal.is_finite, filter(None, values))):  # zeros are finite
            mid = self.number
            return [f"{h}{mid}{v!s}</v></c>" if v is not None else "" for h, v in pairs]
        if kinds == {date}:
            serials = self.serials
            for v in set(values).difference(serials):
                if v is not None:
                    serials[v] = f"{self.number}{v.toordinal() - EPOCH}</v></c>"
            return [h + serials[v] if v is not None else "" for h, v in pairs]
        return [  # anything else, cell by cell, each naming itself
            _cell_xml(Cell(first_row + i, self.k + 1, v, self.style), self.s) if v is not None else ""
            for i, v in enumerate(values)
        ]

    def _text(self, v: str) -> str:
        if not v:
            return f' s="{self.s}"/>'
        if v[0] != " " and v[-1] != " " and _plain(v):  # the common case
            return f"{self.inline}{v}</t></is></c>"
        return f' s="{self.s}" t="inlineStr"><is>{_text_element(v)}</is></c>'


def _as_they_are(texts: set[str]) -> bool:
    """Every text can be written as it is: none empty (an empty cell has no text), none with a
    space (a leading or trailing one needs xml:space), nothing to escape in any."""
    joined = "".join(texts)
    return "" not in texts and " " not in joined and _plain(joined)


def _plain(text: str) -> bool:
    """Nothing in ``text`` to escape: no markup, no "_x" that could read as an escape, and no
    control, surrogate or non-character code point (none of them is printable). Over several
    texts joined, a "_" ending one and an "x" opening the next is a false alarm, never a miss."""
    return text.isprintable() and not _MARKUP.search(text)


def _page_xml(page: PageSetup) -> list[str]:
    """printOptions .. rowBreaks, in CT_Worksheet's order (before the drawing)."""
    left, right, top, bottom = page.margins
    out = [
        '<printOptions horizontalCentered="1"/>',
        f'<pageMargins left="{_num(left)}" right="{_num(right)}" top="{_num(top)}" bottom="{_num(bottom)}" '
        f'header="{_num(page.header_margin)}" footer="{_num(page.footer_margin)}"/>',
        f'<pageSetup orientation="{"landscape" if page.landscape else "portrait"}" '
        f'fitToWidth="{page.fit_width}" fitToHeight="{page.fit_height}"/>',
    ]
    codes = "".join(f"&{side}{text}" for side, text in zip("LCR", page.footer, strict=True) if text)
    if codes:
        out.append(f"<headerFooter><oddFooter>{escape_text(codes)}</oddFooter></headerFooter>")
    if page.row_breaks:
        out.append(f'<rowBreaks count="{len(page.row_breaks)}" manualBreakCount="{len(page.row_breaks)}">')
        out += [f'<brk id="{r - 1}" max="16383" man="1"/>' for r in page.row_breaks]
        out.append("</rowBreaks>")
    return out


# --- charts: XlsxWriter renders them in a throwaway workbook; we take its drawing and chart parts ----


def _chart_parts(sheet: SheetLayout, folder: str, slug: str) -> list:
    """[(part, bytes)..., content-type list]: the drawing, its rels and the charts."""
    import xlsxwriter

    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = book.add_worksheet(sheet.name)
    for col, width in sheet.widths:
        ws.set_column(col - 1, col - 1, width)
    for row, height in sheet.heights:
        ws.set_row(row - 1, height)
    for c in sheet.cells:  # cached values, so the charts' caches show figures before any recalculation
        if isinstance(c.value, (Decimal, float, int)) and not isinstance(c.value, bool):
            ws.write_number(c.row - 1, c.col - 1, float(c.value))
        elif isinstance(c.value, str) and c.value:
            ws.write_string(c.row - 1, c.col - 1, _chart_safe(c.value))
    for chart in sheet.charts:
        ws.insert_chart(chart.row - 1, chart.col - 1, _xlsxwriter_chart(book, chart))
    book.close()
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    drawing = f"{folder}/drawings/scrm_xl_{slug}_drawing.xml".lstrip("/")
    parts, types = [(drawing, src.read("xl/drawings/drawing1.xml"))], [(drawing, CT_DRAWING)]
    rels = etree.fromstring(src.read("xl/drawings/_rels/drawing1.xml.rels"))
    for rel in rels:
        old = posixpath.basename(rel.get("Target"))  # chart1.xml
        new = f"scrm_xl_{slug}_{old}"
        rel.set("Target", f"../charts/{new}")
        chart_part = f"{folder}/charts/{new}".lstrip("/")
        parts.append((chart_part, src.read(f"xl/charts/{old}")))
        types.append((chart_part, CT_CHART))
    parts.insert(1, (_rels_part(drawing), XML_DECL + etree.tostring(rels, encoding="UTF-8")))
    return [*parts, types]


def _chart_safe(text: str) -> str:
    # chart caches are rebuilt by Excel from the cells; they only need to be valid XML
    return _NEEDS_ESCAPE.sub("?", text)[:255]


def _xlsxwriter_chart(book, spec: Chart):
    chart = book.add_chart({"type": spec.kind})
    for s in spec.series:
        options = {"name": s.name, "categories": "=" + spec.categories, "values": "=" + s.values}
        if spec.kind == "line":
            options["marker"] = {"type": "circle"}
        chart.add_series(options)
    chart.set_title({"name": spec.title, "name_font": {"size": 12}})
    chart.set_y_axis({"num_format": spec.y_format, "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    # category labels below the plot, not on the zero line among negative bars
    chart.set_x_axis({"label_position": "low"})
    chart.set_size({"width": spec.width, "height": spec.height})
    return chart
