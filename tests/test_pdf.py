"""scrm_xl.pdf: WeasyPrint imported without the library search that runs gcc, and nothing else changed.

Each check runs in a fresh interpreter, since the test process may have imported WeasyPrint already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# the shared libraries WeasyPrint opens (Pango, HarfBuzz, fontconfig, GObject), as mapped
LIBRARIES = """
def libraries():
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if ".so" in line}
    keep = ("pango", "harfbuzz", "fontconfig", "gobject")
    return sorted(p for p in paths if any(k in p.rsplit("/", 1)[-1] for k in keep))
"""

# records every process started while scrm_xl.pdf (and with it WeasyPrint) is imported, whether
# ctypes.util.find_library is the standard one afterwards, and which libraries were loaded
PROBE = (
    LIBRARIES
    + """
import ctypes.util, json, subprocess
started, real_popen, real_find = [], subprocess.Popen.__init__, ctypes.util.find_library
def popen(self, args, *rest, **kwargs):
    started.append(args if isinstance(args, str) else list(map(str, args)))
    return real_popen(self, args, *rest, **kwargs)
subprocess.Popen.__init__ = popen
import scrm_xl.pdf
subprocess.Popen.__init__ = real_popen
print(json.dumps({
    "started": started,
    "find_library_restored": ctypes.util.find_library is real_find,
    "libraries": libraries(),
}))
"""
)

# what the same interpreter loads when WeasyPrint is imported the ordinary way
PLAIN = (
    LIBRARIES
    + """
import json
import weasyprint
print(json.dumps({"libraries": libraries()}))
"""
)


def fresh(code: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the library search differs off Linux")
def test_weasyprint_is_imported_without_starting_a_process_and_loads_the_same_libraries():
    seen = fresh(PROBE)
    # without scrm_xl.pdf's guard, WeasyPrint's Windows and macOS library names each run
    # ldconfig (and gcc and ld where installed) through ctypes.util.find_library
    assert seen["started"] == []
    assert seen["find_library_restored"] is True
    assert seen["libraries"] == fresh(PLAIN)["libraries"]
    names = " ".join(seen["libraries"])
    assert all(k in names for k in ("libpango-1.0", "libpangoft2-1.0", "libharfbuzz", "libfontconfig"))


def test_the_layout_runs_without_the_collector_and_leaves_its_cycles_to_it(tmp_path, monkeypatch):
    # collecting during WeasyPrint's layout walks boxes that are all still alive: a tenth of the
    # render wasted. The pause must not freeze the layout's garbage cycles, since the Excel
    # button's and the batch workers' Python goes on after the PDF
    import gc
    from datetime import datetime

    import weasyprint
    from weasyprint.document import Document

    from scrm_xl.pdf import write_pdf

    during = []
    real_render, real_write = weasyprint.HTML.render, Document.write_pdf

    def render(self, *args, **kwargs):
        during.append(("render", gc.isenabled()))
        return real_render(self, *args, **kwargs)

    def write(self, *args, **kwargs):
        during.append(("write", gc.isenabled()))
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(weasyprint.HTML, "render", render)
    monkeypatch.setattr(Document, "write_pdf", write)
    rows = "".join(f"<tr><td>Initiative {i}</td><td>{i * 1250:,}</td></tr>" for i in range(200))
    html = f"<html><body><h1>Briefing</h1><table>{rows}</table></body></html>"
    was = gc.isenabled()
    gc.enable()
    try:
        gc.collect()
        frozen = gc.get_freeze_count()
        write_pdf(html, tmp_path / "b.pdf", stamp=datetime(2026, 1, 31))
        after = gc.isenabled(), gc.get_freeze_count(), gc.collect()
    finally:
        if not was:
            gc.disable()
    assert during == [("render", False), ("write", False)]
    # nothing frozen: a freeze would add every object alive (frozen ones can still be freed)
    assert after[0] is True and after[1] <= frozen
    assert after[2] > 100  # the layout's cycles (136 here), found by the collector afterwards
    assert (tmp_path / "b.pdf").read_bytes().startswith(b"%PDF-")
