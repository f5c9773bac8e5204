"""HTML -> PDF with WeasyPrint, the same way for every document scrm_xl prints.

Only the bundled stylesheet and fonts are fetched, the clock is fixed, and the same HTML gives
the same bytes. This module imports WeasyPrint and nothing of the engine, so the forked
renderer (``renderer.Renderer``) imports just this while the parent reads and computes.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import hashlib
import io
import mimetypes
import os
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from .bulk import paused_gc
from .files import replacing, templates_dir

BUNDLED_SUFFIXES = {".css", ".ttf", ".otf", ".woff", ".woff2"}


@contextlib.contextmanager
def _dlopen_by_name() -> Iterator[None]:
    """While WeasyPrint is imported on Linux, ``ctypes.util.find_library`` finds nothing.

    WeasyPrint asks cffi for each library under its Windows and macOS names before the Linux
    one (``libpango-1.0.so.0``), and cffi looks every name up with ``find_library``, which on
    Linux runs ``ldconfig -p`` and then ``gcc`` and ``ld`` for each miss (WeasyPrint issue
    1125): about 30 processes and 0.3 s of the import on a machine with gcc. Every library
    it needs is also listed by its soname, which cffi hands straight to the system loader;
    that loader, not ``find_library``, is what resolves it either way.
    """
    if not sys.platform.startswith("linux") or "weasyprint" in sys.modules:
        yield
        return
    real = ctypes.util.find_library
    ctypes.util.find_library = lambda name: None
    try:
        yield
    finally:
        ctypes.util.find_library = real


with _dlopen_by_name():
    import weasyprint
from weasyprint.urls import URLFetcher, URLFetcherResponse  # noqa: E402 (imported just above)


class BundleFetcher(URLFetcher):
    """A WeasyPrint URL fetcher that serves only the bundled stylesheet and fonts.

    Anything else (http:, https:, data:, ftp:, a file: URL outside the bundle,
    such as one smuggled in through workbook text) is refused, so rendering
    never reads the disk or the network on a workbook's behalf.
    """

    def __init__(self, root: Path):
        super().__init__(allowed_protocols=("file",), allow_redirects=False)
        self.allowed = {
            str(p.resolve()): p.resolve()
            for p in root.rglob("*")
            if p.is_file() and p.suffix.lower() in BUNDLED_SUFFIXES
        }
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        path = _bundled_path(url, self.allowed)
        if path is None:
            self.refused.append(url[:200])
            raise PermissionError(f"scrm-xl serves only bundled templates and fonts: {url[:80]}")
        content_type = "text/css" if path.suffix == ".css" else mimetypes.guess_type(path.name)[0]
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type or "font/ttf"})


def _bundled_path(url: str, allowed: dict[str, Path]) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost") or parts.query:
        return None
    try:
        path = Path(url2pathname(parts.path)).resolve()
    except (OSError, ValueError):
        return None
    return allowed.get(str(path))


_epoch_lock = threading.Lock()


@contextlib.contextmanager
def _source_date_epoch(epoch: int) -> Iterator[None]:
    """SOURCE_DATE_EPOCH for fontTools' subsetter (it stamps fonts with now otherwise), then restored."""
    with _epoch_lock:
        before = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("SOURCE_DATE_EPOCH", None)
            else:
                os.environ["SOURCE_DATE_EPOCH"] = before


def write_pdf(
    html: str,
    out_path: str | os.PathLike[str],
    *,
    stamp: datetime,
    variant: str | None = None,
    attach: str | os.PathLike[str] | None = None,
) -> Path:
    """Lay out ``html`` (which links the bundled stylesheet) and write it to ``out_path``,
    replaced atomically. ``stamp`` is the document's date (and its fonts'); the document
    identifier comes from the content. ``variant`` is a WeasyPrint PDF variant ("pdf/a-3b");
    ``attach`` embeds that file, stamped with the same date."""
    root = templates_dir()
    identifier = hashlib.sha256(html.encode("utf-8") + (variant or "").encode()).hexdigest()[:32].encode()
    attachments = []
    if attach is not None:
        source = Path(attach)
        attachments.append(
            weasyprint.Attachment(
                file_obj=io.BytesIO(source.read_bytes()),
                name=source.name,
                description="Source workbook of this briefing",
                created=stamp,
                modified=stamp,
                relationship="Source",
            )
        )
    fetcher = BundleFetcher(root)
    # the layout's boxes are mostly alive until the end: collecting meanwhile cost up to a tenth
    # of the render, and a paused collector only 2 % more memory (performance.md, finding 39)
    with _source_date_epoch(int(stamp.timestamp())), paused_gc(freeze=False):
        document = weasyprint.HTML(
            string=html, base_url=root.as_uri() + "/", url_fetcher=fetcher, media_type="print"
        ).render()
        pdf = document.write_pdf(
            pdf_identifier=identifier,
            pdf_variant=variant,
            attachments=attachments or None,
            custom_metadata=False,
        )
    out = Path(out_path)
    with replacing(out) as tmp:
        tmp.write_bytes(pdf)
    return out
