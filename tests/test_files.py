"""optimessay.files.write_atomic: whole files or none."""

import os

import pytest

from optimessay.files import write_atomic


def test_writes_text_and_bytes_and_leaves_no_temporary(tmp_path):
    write_atomic(tmp_path / "sub" / "a.md", "héllo\n")
    write_atomic(tmp_path / "b.png", b"\x89PNG")
    assert (tmp_path / "sub" / "a.md").read_text(encoding="utf-8") == "héllo\n"
    assert (tmp_path / "b.png").read_bytes() == b"\x89PNG"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["a.md", "b.png"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path, monkeypatch):
    target = tmp_path / "table.md"
    write_atomic(target, "old")

    def crash(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["table.md"]


def test_refuses_what_is_not_text_or_bytes(tmp_path):
    with pytest.raises(TypeError, match="str or bytes, got dict"):
        write_atomic(tmp_path / "x.json", {"a": 1})
