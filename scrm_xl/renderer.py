"""The PDF briefing's renderer: a child forked before the workbook is read.

It imports nothing of the engine, so a caller that knows early that a PDF is wanted (the CLI,
right after parsing its arguments) can fork it before the engine's modules load; the pipeline
hands it the results (``pipeline.run(..., renderer=...)``).
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from .results import Results


class RenderError(Exception):
    """The PDF briefing could not be rendered; the message says why."""


class Renderer:
    """Renders the briefing in a child forked before the workbook is read, so WeasyPrint's
    import (most of a second) overlaps reading and computing, and the layout overlaps writing
    the sheets. This process makes the briefing's HTML (Jinja2 and Babel stay out of the
    child); the HTML reaches the child through a spool file made before the fork, and a byte
    on a pipe says it is there (no byte: nothing to render).

    Forking is only safe in a single-threaded process (a lock held by another thread would
    stay locked in the child); elsewhere, and where there is no fork, ``wait`` renders here,
    after whatever the caller did in between, exactly as if it had been sequential.
    """

    def __init__(self, *, fork: bool = True) -> None:
        self.pid = 0
        self.go: int | None = None
        self.job: tuple | None = None  # (results, pdf, options), when rendering here
        self.pdf: Path | None = None
        self.failed = ""  # why the HTML could not be made, for wait()
        self.reaped = False  # the forked child has been waited for
        unsafe = not hasattr(os, "fork") or threading.active_count() > 1
        if not fork or unsafe or os.environ.get("SCRM_XL_NO_FORK"):
            return
        self.spool = tempfile.TemporaryFile()  # noqa: SIM115 (closed by wait() or cancel())
        go_read, self.go = os.pipe()
        self.status, status_write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(self.go)
            os.close(self.status)
            _render_child(go_read, self.spool, status_write)  # never returns
        os.close(go_read)
        os.close(status_write)
        self.pid = pid

    @property
    def forked(self) -> bool:
        return self.pid != 0

    @property
    def ended(self) -> bool:
        """Nothing left to stop: never forked, or the child has been reaped."""
        return not self.forked or self.reaped

    def give(self, results: Results, pdf: Path, **options) -> None:
        """The results to render into ``pdf``; the forked child starts at once."""
        self.pdf = pdf
        if not self.forked:
            self.job = (results, pdf, options)
            return
        try:
            from .render import prepare_pdf

            html, pdf_options = prepare_pdf(results, **options)
        except Exception as exc:  # reported by wait(), after the sheets, as a failed layout would be
            self.failed = f"{type(exc).__name__}: {exc}"
            self.cancel()
            return
        except BaseException:
            self.cancel()
            raise
        try:
            payload = pickle.dumps((html, pdf, pdf_options), protocol=pickle.HIGHEST_PROTOCOL)
            self.spool.write(payload)
            self.spool.flush()
        except BaseException:  # a full disk under the spool, say: no renderer left waiting
            self.cancel()
            raise
        with contextlib.suppress(OSError):  # a child that already died says why in wait()
            os.write(self.go, b"1")
        self._close_go()

    def cancel(self) -> None:
        """Nothing to render: the child, which has written nothing yet, is stopped and reaped."""
        if not self.ended:
            self._close_go()
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.reaped = True
            with contextlib.suppress(OSError):  # wait() closes it when stopped while reading it
                os.close(self.status)
            self.spool.close()

    def wait(self) -> Path:
        if not self.forked:
            assert self.job is not None, "give() comes before wait()"
            results, pdf, options = self.job
            try:
                from .render import render_pdf

                return render_pdf(results, pdf, **options)
            except Exception as exc:
                raise RenderError(f"{type(exc).__name__}: {exc}") from exc
        if self.failed:
            raise RenderError(self.failed)
        self._close_go()
        try:
            with os.fdopen(self.status, "rb") as pipe:
                message = pipe.read().decode(errors="replace")
            _, status = os.waitpid(self.pid, 0)
        except BaseException:  # interrupted while the child lays out: it must not go on alone
            self._stop()
            raise
        self.reaped = True
        self.spool.close()
        if message or status != 0:
            raise RenderError(message or f"the PDF renderer stopped unexpectedly (status {status})")
        assert self.pdf is not None, "give() comes before wait()"
        return self.pdf

    def _stop(self) -> None:
        """Interrupt the child as Ctrl-C would (it removes a PDF it has half written), and reap it;
        killed if it has not ended within two seconds."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGINT)
        with contextlib.suppress(ChildProcessError):  # already reaped by the interrupted wait
            for _ in range(200):
                if os.waitpid(self.pid, os.WNOHANG)[0]:
                    break
                time.sleep(0.01)
            else:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
        self.reaped = True
        self.spool.close()

    def _close_go(self) -> None:
        if self.go is not None:
            os.close(self.go)
            self.go = None


def _render_child(go: int, spool, status: int) -> NoReturn:
    """The forked renderer: import WeasyPrint, wait for the HTML, lay it out, report one line."""
    code, message = 0, b""
    # one document, then os._exit: the collector would only walk WeasyPrint's modules and
    # boxes again and again (a tenth of the import and of the layout), and what little it
    # could free goes with the process
    gc.disable()
    try:
        from . import pdf  # the slow import, while the parent reads and computes

        if os.read(go, 1):
            spool.seek(0)
            html, out, options = pickle.loads(spool.read())
            pdf.write_pdf(html, out, **options)
    except BaseException as exc:  # everything must reach the parent as one line
        code, message = 1, f"{type(exc).__name__}: {exc}".encode(errors="replace")
    finally:
        with contextlib.suppress(OSError):
            os.write(status, message)
        os._exit(code)
