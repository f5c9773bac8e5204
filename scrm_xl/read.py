"""Read a workbook file into plain tables of raw cell values.

Untrusted files are checked before any parser sees them: the zip container
(entry count, declared and actual sizes, compression ratio), every XML part
(no DTD, so no entity expansion or external entities), and every worksheet's
used range (python-calamine aborts the whole process when a sheet spans an
absurd range, so that is refused up front). Values then come from
python-calamine; error cells (#DIV/0!, #REF!, ...), which calamine reads as
blanks, come from the same streaming pre-scan.

The Excel button builds ``Tables`` itself from xlwings reads and calls the
same ``load()``; nothing here is needed inside Excel.
"""

from __future__ import annotations

import os
import re
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from .model import Issue, column_letter, error
from .schema import normalize_name

# --- limits (documented in docs/input-rules.md) ------------------------------

MAX_FILE_BYTES = 512 * 1024**2  # the file on disk
MAX_ENTRIES = 10_000  # parts in the zip container
MAX_PART_BYTES = 1024**3  # one part, uncompressed
MAX_TOTAL_BYTES = 2 * 1024**3  # all parts, uncompressed
MAX_RATIO = 200  # uncompressed / compressed, for parts over RATIO_FLOOR
RATIO_FLOOR = 8 * 1024**2
MAX_ROWS = 1_048_576  # Excel's own limit
MAX_COLS = 16_384  # Excel's own limit (XFD)
MAX_CELLS = 2**25  # rows x columns of one sheet's used range: 1,048,576 rows x 32 columns
PROLOG_BYTES = 64 * 1024  # an XML part must reach its root element within this
SMALL_PART_BYTES = 16 * 1024**2  # workbook.xml and its rels are parsed whole

ERROR_CODES = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")


@dataclass(frozen=True, slots=True)
class ExcelError:
    """A cell showing an Excel error such as ``#DIV/0!``; the loader reports it at its cell.

    ``code`` is empty for a formula saved without its result (a file written by a
    program and never opened in Excel): its value is unknown, not blank.
    """

    code: str

    @property
    def uncalculated(self) -> bool:
        return not self.code

    def __str__(self) -> str:
        return self.code


@dataclass(frozen=True, slots=True)
class Table:
    """One sheet's cells as rows of raw values; ``rows[0][0]`` is at (first_row, first_col), 1-based.

    Values are str, int/float, bool, date/datetime, ``ExcelError`` or None ("" counts as blank).
    """

    name: str
    rows: Sequence[Sequence[object]]
    first_row: int = 1
    first_col: int = 1
    hidden: bool = False


class Tables(Mapping[str, Table]):
    """The workbook's sheets by name, plus workbook-wide facts; immutable.

    Lookup with ``find`` matches names case- and space-insensitively, as the contract says.
    """

    __slots__ = ("_by_name", "_by_norm", "date1904", "path", "sheet_names")

    def __init__(
        self,
        tables: Iterable[Table],
        *,
        date1904: bool = False,
        path: str | None = None,
        sheet_names: Iterable[str] | None = None,
    ):
        by_name: dict[str, Table] = {}
        by_norm: dict[str, list[Table]] = {}
        for t in tables:
            by_name[t.name] = t
            by_norm.setdefault(normalize_name(t.name), []).append(t)
        object.__setattr__(self, "_by_name", by_name)
        object.__setattr__(self, "_by_norm", by_norm)
        object.__setattr__(self, "date1904", bool(date1904))
        object.__setattr__(self, "path", path)
        # every worksheet of the workbook, including those not read
        object.__setattr__(self, "sheet_names", tuple(by_name if sheet_names is None else sheet_names))

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Tables is immutable")

    def __getitem__(self, name: str) -> Table:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._by_name)

    def matching(self, name: str) -> list[Table]:
        """All sheets whose name matches ``name`` ignoring case and spaces."""
        return list(self._by_norm.get(normalize_name(name), ()))

    def find(self, name: str) -> Table | None:
        found = self.matching(name)
        return found[0] if len(found) == 1 else None

    def __repr__(self) -> str:
        return f"Tables({list(self._by_name)!r}, date1904={self.date1904})"


class Unreadable(Exception):
    """The file as a whole cannot be read; the message is one line for the user."""


# --- entry point ---------------------------------------------------------------


def input_sheet(name: str) -> bool:
    """The sheets the loader reads: the contract's input sheets and xlwings.conf."""
    from .schema import INPUT_SHEETS

    return normalize_name(name) in {normalize_name(s.name) for s in INPUT_SHEETS} | {"xlwings.conf"}


def read_workbook(
    path: str | os.PathLike[str], *, all_sheets: bool = False
) -> tuple[Tables | None, list[Issue]]:
    """Read an .xlsx/.xlsm file's input sheets (every worksheet with ``all_sheets``);
    ``(None, [issue])`` when the file can't be read.

    Other sheets (the ROI/KPI/Ledger outputs of an earlier run, the user's own) are
    not parsed, so re-running on a processed workbook costs no more than the first run;
    ``Tables.sheet_names`` still lists them all.
    """
    p = Path(path)
    wanted = (lambda name: True) if all_sheets else input_sheet
    from .bulk import paused_gc

    try:
        # calamine hands over millions of live cell objects: no collector passes over them
        with paused_gc(), _Parsing(p) as parsing:
            facts = _inspect(p, wanted, parsing)
            tables = _read_values(parsing, facts)
    except Unreadable as exc:
        return None, [error("", f"{p.name}: {exc}")]
    except OSError as exc:
        return None, [error("", f"{p.name}: cannot be read ({exc.strerror or exc})")]
    except (zipfile.BadZipFile, zlib.error, EOFError, struct.error, ValueError) as exc:
        return None, [error("", f"{p.name}: the file is damaged and cannot be read ({_one_line(exc)})")]
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # calamine's errors, and its Rust panics (a BaseException in pyo3)
        return None, [error("", f"{p.name}: the file cannot be read ({_one_line(exc)})")]
    return tables, []


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


# --- pre-flight -------------------------------------------------------------------

CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


@dataclass
class _SheetFacts:
    name: str
    part: str
    errors: dict[tuple[int, int], str] = field(default_factory=dict)
    skip: bool = False  # not read (not an input sheet)


@dataclass
class _Facts:
    date1904: bool
    sheets: list[_SheetFacts]


def _inspect(p: Path, wanted=lambda name: True, parsing: _Parsing | None = None) -> _Facts:
    if p.suffix.lower() not in (".xlsx", ".xlsm"):
        if p.suffix.lower() == ".xls":
            raise Unreadable("old .xls workbooks are not read; save it as .xlsx in Excel")
        raise Unreadable("not an .xlsx or .xlsm workbook")
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise Unreadable(f"the file is {size:,} bytes, more than the {MAX_FILE_BYTES:,} scrm_xl reads")
    with open(p, "rb") as fh:
        head = fh.read(8)
        if head.startswith(CFB_MAGIC):
            fh.seek(0)
            body = fh.read(min(size, 64 * 1024**2))
            if "EncryptionInfo".encode("utf-16-le") in body:
                raise Unreadable("the workbook is password-protected; save a copy without a password")
            raise Unreadable("this is an old-format (OLE) file, not an .xlsx workbook; save it as .xlsx")
        if not head.startswith(ZIP_MAGIC) or not zipfile.is_zipfile(fh):
            raise Unreadable("not an Excel workbook (the file is not a zip container)")
        fh.seek(0)
        with zipfile.ZipFile(fh) as zf:
            return _inspect_zip(fh, zf, wanted, parsing)


def _inspect_zip(
    fh, zf: zipfile.ZipFile, wanted=lambda name: True, parsing: _Parsing | None = None
) -> _Facts:
    """Check the container, its XML parts and every sheet; each wanted sheet is handed to
    ``parsing`` as soon as its own scan has passed, so its parse can start."""
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise Unreadable(f"the workbook has {len(infos):,} parts, more than {MAX_ENTRIES:,}: not a workbook")
    # worksheets are sized up below, and only those that are read: a sheet nobody parses (the
    # Ledger of a million lines a previous run wrote, say) is never inflated
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise Unreadable("the workbook is password-protected; save a copy without a password")
        if not _worksheet_xml(info.filename):
            total = _sized_up(info, total)
    names = {i.filename: i for i in infos}
    if "xl/workbook.xml" not in names:
        raise Unreadable("not an Excel workbook (no xl/workbook.xml inside)")

    # every XML part calamine might parse: refuse a DTD (entity bombs, external entities)
    for info in infos:
        if info.filename.endswith((".xml", ".rels", ".vml")) and not info.filename.startswith(
            "xl/worksheets/"
        ):
            _check_xml_part(fh, info)

    date1904, sheets = _workbook_sheets(fh, names)
    read = [names[s.part] for s in sheets if s.part in names and wanted(s.name)]
    for info in read:
        if _worksheet_xml(info.filename):
            total = _sized_up(info, total)
    if parsing is not None:
        parsing.plan(sum(info.file_size for info in read))
    for sheet in sheets:
        info = names.get(sheet.part)
        if info is None:
            raise Unreadable(f"sheet {sheet.name!r} is listed but its part {sheet.part} is missing")
        if wanted(sheet.name):
            _scan_sheet(fh, info, sheet)
            if parsing is not None:
                parsing.start(sheet)
        else:
            sheet.skip = True
    return _Facts(date1904, sheets)


def _worksheet_xml(name: str) -> bool:
    """A worksheet's own XML (its relationships and every other part are always sized up)."""
    return name.startswith("xl/worksheets/") and name.endswith(".xml")


def _sized_up(info: zipfile.ZipInfo, total: int) -> int:
    """``total`` plus the part's declared size, once its size and compression ratio pass."""
    if info.file_size > MAX_PART_BYTES:
        raise Unreadable(f"part {info.filename} unpacks to {info.file_size:,} bytes, more than allowed")
    if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise Unreadable(
            f"part {info.filename} is compressed {info.file_size // max(info.compress_size, 1):,} to 1, "
            f"more than {MAX_RATIO} to 1: this looks like a zip bomb"
        )
    total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise Unreadable(f"the workbook unpacks to more than {MAX_TOTAL_BYTES:,} bytes: too large")
    return total


def _part_chunks(fh, info: zipfile.ZipInfo, chunk: int = 1024 * 1024) -> Iterator[bytes]:
    """Decompress one part ourselves, refusing more output than its declared size.

    The declared size in the zip directory is what the size limits were checked
    against; a stream that inflates beyond it is a bomb with a lying header.
    """
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        raise Unreadable(f"part {info.filename} is damaged")
    name_len, extra_len = struct.unpack("<HH", local[26:30])
    fh.seek(info.header_offset + 30 + name_len + extra_len)
    remaining = info.compress_size
    if info.compress_type == zipfile.ZIP_STORED:
        inflate = None
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflate = zlib.decompressobj(-15)
    else:
        raise Unreadable(f"part {info.filename} uses a compression Excel never writes")
    out = 0
    limit = info.file_size
    while remaining > 0:
        raw = fh.read(min(chunk, remaining))
        if not raw:
            raise Unreadable(f"part {info.filename} is truncated")
        remaining -= len(raw)
        if inflate is None:
            data = raw
        else:
            # cap each step's output so a bomb never materialises in memory
            data = inflate.decompress(raw, limit - out + 1)
            while inflate.unconsumed_tail and len(data) <= limit - out:
                more = inflate.decompress(inflate.unconsumed_tail, limit - out - len(data) + 1)
                if not more:
                    break
                data += more
        out += len(data)
        if out > limit:
            raise Unreadable(f"part {info.filename} unpacks to more than its declared size: a zip bomb")
        if data:
            yield data


_DOCTYPE = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOT = re.compile(rb"<(?![?!])")


def _check_prolog(head: bytes, part: str) -> None:
    if _DOCTYPE.search(head):
        raise Unreadable(f"part {part} declares a DTD or entities, which Excel never writes: refused")
    if not _ROOT.search(head):
        raise Unreadable(f"part {part} has no XML content in its first {PROLOG_BYTES:,} bytes: refused")


def _check_xml_part(fh, info: zipfile.ZipInfo) -> None:
    head = b""
    for data in _part_chunks(fh, info):
        head += data
        if len(head) >= PROLOG_BYTES:
            break
    _check_prolog(head[:PROLOG_BYTES], info.filename)


def _read_small(fh, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > SMALL_PART_BYTES:
        raise Unreadable(f"part {info.filename} is implausibly large ({info.file_size:,} bytes)")
    return b"".join(_part_chunks(fh, info))


def _workbook_sheets(fh, names: dict[str, zipfile.ZipInfo]) -> tuple[bool, list[_SheetFacts]]:
    from defusedxml import ElementTree as SafeET

    wb = SafeET.fromstring(_read_small(fh, names["xl/workbook.xml"]), forbid_dtd=True)
    pr = wb.find(f"{{{MAIN_NS}}}workbookPr")
    date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
    targets: dict[str, str] = {}
    rels = names.get("xl/_rels/workbook.xml.rels")
    if rels is not None:
        for rel in SafeET.fromstring(_read_small(fh, rels), forbid_dtd=True):
            target = rel.get("Target", "")
            target = target.lstrip("/") if target.startswith("/") else "xl/" + target
            targets[rel.get("Id", "")] = _normpath(target)
    sheets = []
    for el in wb.iterfind(f"{{{MAIN_NS}}}sheets/{{{MAIN_NS}}}sheet"):
        part = targets.get(el.get(f"{{{REL_NS}}}id", ""), "")
        if part.startswith("xl/worksheets/"):
            sheets.append(_SheetFacts(el.get("name", ""), part))
    return date1904, sheets


def _normpath(target: str) -> str:
    parts: list[str] = []
    for piece in target.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece and piece != ".":
            parts.append(piece)
    return "/".join(parts)


# Streaming scan of a worksheet: the used range it claims, the rows and columns it
# really uses, and its error cells. The element prefix (none, or e.g. "x:") is read
# from the root element so that every pattern starts with a literal, which keeps
# the scan at C speed (about 1 s per 100 MB of sheet XML).
_ROOT_ELEMENT = re.compile(rb"<(\w+:)?worksheet\b")
_REF_ATTR = re.compile(rb'\br="([A-Za-z]+)(\d+)"')
_CELL_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?(\d{1,7})$")
OVERLAP = 64 * 1024


class _Patterns:
    def __init__(self, prefix: bytes):
        p = re.escape(prefix)
        self.dimension = re.compile(rb"<" + p + rb'dimension\b[^>]*?\bref="([^"]*)"')
        self.row = re.compile(rb"<" + p + rb'row\b[^>]*?\br="(\d+)"')
        # every writer puts r first; a cell that does not is checked the slow way
        self.wide_cell = re.compile(rb"<" + p + rb'c r="([A-Za-z]{2,})\d')
        self.odd_cell = re.compile(rb"<" + p + rb'c\s(?!r=")[^>]*?\br="([A-Za-z]+)\d')
        self.value = re.compile(rb"<" + p + rb"v>([^<]*)</" + p + rb"v>")
        self.cell_end = b"</" + prefix + b"c>"
        self.prefix = prefix
        self.cell_start = b"<" + prefix + b"c"
        self.formula_start = b"<" + prefix + b"f"  # <f>, <f t="shared" .../>; <formula> is a false alarm
        f_end, v, c_end = b"</" + prefix + b"f>", b"<" + prefix + b"v", b"</" + prefix + b"c>"
        self.bare_formula = (
            f_end + c_end,  # <f>..</f></c>
            b"/>" + c_end,  # <f t="shared" si="0"/></c>
            f_end + v + b"></" + prefix + b"v>" + c_end,  # openpyxl: <f>..</f><v></v></c>
            f_end + v + b"/>" + c_end,
        )


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _check_extent(sheet: str, rows: int, cols: int, what: str) -> None:
    if rows > MAX_ROWS or cols > MAX_COLS or rows * cols > MAX_CELLS:
        raise Unreadable(
            f"sheet {sheet!r} {what} {column_letter(min(cols, 10**6))}{rows} "
            f"({rows * cols:,} cells), more than the {MAX_CELLS:,} cells scrm_xl reads from one sheet; "
            "delete the unused rows and columns"
        )


def _scan_sheet(fh, info: zipfile.ZipInfo, sheet: _SheetFacts) -> None:
    buf = b""
    pat: _Patterns | None = None
    max_row = 0
    max_col = 26  # columns A..Z cost nothing to assume; wider ones are found below
    chunks = _part_chunks(fh, info)
    done = False
    while not done:
        data = next(chunks, None)
        if data is None:
            done = True
        else:
            buf += data
            if pat is None and len(buf) < PROLOG_BYTES:
                continue
        if pat is None:
            head = buf[:PROLOG_BYTES]
            _check_prolog(head, info.filename)
            root = _ROOT_ELEMENT.search(head)
            pat = _Patterns(root.group(1) or b"" if root else b"")
            m = pat.dimension.search(head)
            if m:
                rows, cols = _ref_extent(m.group(1).decode("ascii", "replace"))
                _check_extent(sheet.name, rows, cols, "claims a used range up to")
        cut = len(buf) if done else max(0, len(buf) - OVERLAP)
        max_row = max(max_row, max(map(int, pat.row.findall(buf, 0, cut)), default=0))  # any order
        for rx in (pat.wide_cell, pat.odd_cell):
            for letters in set(rx.findall(buf, 0, cut)):
                max_col = max(max_col, _col_number(letters.decode("ascii")))
        _scan_uncalculated(buf, cut, pat, sheet.errors)
        _scan_errors(buf, cut, pat, sheet.errors)
        _check_extent(sheet.name, max_row, max_col, "uses cells up to")
        buf = buf[cut:]


def _scan_uncalculated(buf: bytes, cut: int, pat: _Patterns, errors: dict[tuple[int, int], str]) -> None:
    """Formula cells saved without a <v> result: calamine reads them as blank."""
    if buf.find(pat.formula_start, 0, cut) == -1:  # one pass for a chunk of values, not four
        return
    for marker in pat.bare_formula:
        pos = buf.find(marker, 0, cut)
        while pos != -1:
            start = buf.rfind(pat.cell_start, 0, pos)
            if start != -1:
                close = buf.find(b">", start)
                inner = buf[close + 1 : pos + len(marker)]
                is_formula = inner.lstrip().startswith(b"<" + pat.prefix + b"f")
                ref = _REF_ATTR.search(buf, start, close)
                value = pat.value.search(inner)
                if is_formula and ref and (value is None or not value.group(1)):
                    errors.setdefault((int(ref.group(2)), _col_number(ref.group(1).decode("ascii"))), "")
            pos = buf.find(marker, pos + len(marker), cut)


def _scan_errors(buf: bytes, cut: int, pat: _Patterns, errors: dict[tuple[int, int], str]) -> None:
    """Cells of type "e": their cached text is the error Excel shows (#DIV/0!, #N/A, ...)."""
    pos = buf.find(b't="e"', 0, cut)
    while pos != -1:
        start = buf.rfind(b"<", 0, pos)
        close = buf.find(b">", pos)
        end = buf.find(pat.cell_end, pos)
        if start != -1 and close != -1 and end != -1 and buf[close - 1 : close] != b"/":
            ref = _REF_ATTR.search(buf, start, close)
            value = pat.value.search(buf, close, end)
            if ref and value:
                code = value.group(1).decode("utf-8", "replace").strip()
                errors[(int(ref.group(2)), _col_number(ref.group(1).decode("ascii")))] = code
        pos = buf.find(b't="e"', pos + 5, cut)


def _ref_extent(ref: str) -> tuple[int, int]:
    """'A1:XFD1048576' -> (1048576, 16384); absurd numbers are kept so the check refuses them."""
    last = ref.split(":")[-1].strip()
    m = _CELL_REF.match(last)
    if not m:
        if not last:
            return 0, 0
        raise Unreadable(f"a sheet declares an unreadable used range {ref[:40]!r}")
    return int(m.group(2)), _col_number(m.group(1))


# --- values ------------------------------------------------------------------------


class _Parsing:
    """python-calamine parses each sheet on a worker thread as soon as the pre-scan has passed
    it. The parse releases the GIL, so it runs while later sheets are scanned; each worker
    converts its sheet to Python rows at once, so a parsed range is freed as soon as it is read.
    Calamine opens the file only after every other XML part has been checked.

    Two workers, so that Returns and Touchpoints parse at once on two cores, only while the
    sheets' XML adds up to at most ``TOGETHER_BYTES``: one calamine workbook parses one sheet
    at a time, so each worker opens its own, with its own copy of the shared strings, and two
    big sheets would be held parsed at once. A bigger workbook (a million rows) gets one
    worker: one parsed sheet at a time, as a sequential read would."""

    TOGETHER_BYTES = 192 * 1024**2  # of sheet XML (about 500k rows of Returns and their touchpoints)

    def __init__(self, p: Path) -> None:
        self.p = p
        self.workers = 1
        self.pool: ThreadPoolExecutor | None = None
        self.local = threading.local()
        self.opened: list = []
        self.names: set[str] = set()
        self.visible: dict[str, bool] = {}
        self.rows: dict[str, Future] = {}

    def __enter__(self) -> _Parsing:
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:  # an unreadable later sheet: let the parses under way end, start no other
            self.pool.shutdown(wait=True, cancel_futures=True)
        for wb in self.opened:
            wb.close()

    def plan(self, xml_bytes: int) -> None:
        """The wanted sheets' XML size, before the first sheet starts."""
        self.workers = 2 if xml_bytes <= self.TOGETHER_BYTES else 1

    def start(self, sheet: _SheetFacts) -> None:
        if self.pool is None:
            self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="scrm_xl-read")
        self.rows[sheet.name] = self.pool.submit(self._rows, sheet.name)

    def _workbook(self):
        wb = getattr(self.local, "wb", None)
        if wb is None:
            import python_calamine as pc

            wb = self.local.wb = pc.CalamineWorkbook.from_path(str(self.p))
            self.opened.append(wb)
            self.names = set(wb.sheet_names)
            self.visible = {
                m.name: str(m.visible).rsplit(".", 1)[-1].lower() == "visible" for m in wb.sheets_metadata
            }
        return wb

    def _rows(self, name: str) -> list | None:
        wb = self._workbook()
        if name not in self.names:  # a sheet calamine does not list
            return None
        return wb.get_sheet_by_name(name).to_python(skip_empty_area=False)


def _read_values(parsing: _Parsing, facts: _Facts) -> Tables:
    tables = []
    for sf in facts.sheets:
        future = parsing.rows.get(sf.name)
        if future is None:  # a chart sheet, or a sheet the loader does not read
            continue
        rows = future.result()
        if rows is None:
            continue
        for (r, c), code in sf.errors.items():
            while len(rows) < r:
                rows.append([])
            row = rows[r - 1]
            while len(row) < c:
                row.append(None)
            row[c - 1] = ExcelError(code)
        tables.append(Table(sf.name, rows, 1, 1, hidden=not parsing.visible.get(sf.name, True)))
    return Tables(
        tables, date1904=facts.date1904, path=str(parsing.p), sheet_names=[s.name for s in facts.sheets]
    )
