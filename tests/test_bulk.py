"""The collector stays off the objects a stage builds, and gets them back after the run."""

import gc

import pytest

from scrm_xl.bulk import paused_gc, released


@pytest.fixture(autouse=True)
def clean_collector():
    was = gc.isenabled()
    gc.unfreeze()
    gc.enable()
    yield
    gc.unfreeze()
    if was:  # a test that switched it off must not leave the rest of the suite without it
        gc.enable()
    else:
        gc.disable()


def test_a_stage_runs_without_the_collector_and_what_it_made_is_frozen_after():
    with paused_gc():
        assert not gc.isenabled()
        made = [[i] for i in range(1000)]  # lists are tracked by the collector
        assert gc.get_freeze_count() == 0
    assert gc.isenabled()
    assert gc.get_freeze_count() >= len(made)
    assert gc.is_tracked(made[0])


def test_nested_pauses_freeze_once_at_the_outermost_end():
    with paused_gc():
        with paused_gc():
            inner = [[1], [2]]
        assert not gc.isenabled()  # the inner block does not switch the collector back on
        assert gc.get_freeze_count() == 0
    assert gc.isenabled() and gc.get_freeze_count() >= len(inner)


def test_a_pause_inside_a_caller_that_switched_the_collector_off_changes_nothing():
    gc.disable()
    with paused_gc():
        made = [[1]]
    assert not gc.isenabled() and gc.get_freeze_count() == 0 and made


def test_released_gives_the_frozen_objects_back_so_cycles_among_them_are_collected():
    class Node:
        pass

    with released():
        with paused_gc():
            a, b = Node(), Node()
            a.other, b.other = b, a  # a cycle only the collector can free
        assert gc.get_freeze_count() > 0
        del a, b
    assert gc.get_freeze_count() == 0
    assert gc.collect() >= 2  # both nodes (and their dicts) found unreachable


def test_released_leaves_alone_what_someone_else_froze():
    keep = [[1]]
    gc.freeze()
    before = gc.get_freeze_count()
    with released(), paused_gc():
        made = [[2]]
    assert gc.get_freeze_count() >= before
    assert keep and made


def test_a_pause_without_freezing_hands_its_cycles_straight_back_to_the_collector():
    class Node:
        pass

    with paused_gc(freeze=False):
        assert not gc.isenabled()
        a, b = Node(), Node()
        a.other, b.other = b, a
    assert gc.isenabled() and gc.get_freeze_count() == 0
    del a, b
    assert gc.collect() >= 2
