"""Keep the cyclic garbage collector off the millions of objects a stage builds.

Reading, loading and computing a million-row sheet create millions of small objects
that are all still alive; each automatic collection walks every one of them again,
which cost a third of the load time. Reference counting still frees everything as
usual while paused. None of these objects is in a reference cycle, so the collector
has nothing to find among them: when a stage ends, what it made is frozen (moved out
of the collector's reach, as ``gc.freeze`` does for a pre-fork server) instead of
being walked by the first collection after ``gc.enable()``. ``released()`` hands it
back to the collector once the caller's whole run is over.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc(*, freeze: bool = True) -> Iterator[None]:
    """Within the block the collector does not run; nested uses are harmless. On leaving the
    outermost block every object alive is frozen: the first collection after the pause would
    otherwise walk all the block made (0.2 s per 100k return rows, per stage).

    ``freeze=False`` is for work that does leave cycles behind, but so few that collecting
    while it runs is wasted (WeasyPrint's layout: 232 collections freed 2,418 objects of the
    example's briefing); what it made goes back to the collector as it is."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if freeze:
                gc.freeze()
            gc.enable()


@contextmanager
def released() -> Iterator[None]:
    """Around a whole run: what the stages inside froze goes back to the collector at the end,
    so a long-lived process (the batch's Dask workers, the Excel button's Python) still
    collects any cycle among it. Objects someone else froze before are left frozen."""
    ours = gc.get_freeze_count() == 0
    try:
        yield
    finally:
        if ours:
            gc.unfreeze()
