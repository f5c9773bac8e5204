"""The one way scrm_xl replaces a file: whole, or not at all."""

import os

import pytest

from scrm_xl.files import replacing


def test_a_failure_inside_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "book.xlsx"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


def test_success_replaces_and_keeps_the_replaced_files_mode(tmp_path):
    target = tmp_path / "book.xlsx"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    with replacing(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_bytes(b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book.xlsx"]


def test_a_new_file_gets_the_umask_mode_or_the_one_asked_for(tmp_path):
    umask = os.umask(0o022)
    try:
        with replacing(tmp_path / "a.pdf") as tmp:
            tmp.write_bytes(b"x")
        with replacing(tmp_path / "b.py", mode=0o600) as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(umask)
    assert (tmp_path / "a.pdf").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.py").stat().st_mode & 0o777 == 0o600
