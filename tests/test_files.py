"""optimessay.files: whole files or none (write_atomic); temporaries that name their writer, removed
only once it is gone."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from optimessay.files import (
    UNOWNED_MAX_AGE,
    process_running,
    remove_stale_temporaries,
    temporary_owner,
    temporary_path,
    write_atomic,
)


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


def test_temporary_names_carry_the_writer_pid(tmp_path, monkeypatch):
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append(Path(src))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    write_atomic(tmp_path / "fig.png", b"x")
    assert seen[0].parent == tmp_path and seen[0].name.startswith(f".fig.png.{os.getpid()}-")
    assert temporary_owner(seen[0]) == os.getpid()
    assert temporary_path(tmp_path / "a.mp4", "figure") == tmp_path / f".a.mp4.{os.getpid()}-figure.tmp"
    assert temporary_owner(".a.mp4.123.tmp") == 123  # the figure build's earlier names
    assert temporary_owner(".a.mp4.tmp") is None
    with pytest.raises(ValueError, match="tag must be letters, digits or '_', got 'a.b'"):
        temporary_path(tmp_path / "a.mp4", "a.b")


def test_a_process_that_exited_is_not_running_even_as_a_zombie():
    assert process_running(os.getpid())
    assert not process_running(0) and not process_running(-1)
    reaped = subprocess.Popen([sys.executable, "-c", "pass"])
    reaped.wait()
    assert not process_running(reaped.pid)
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        os.waitid(os.P_PID, zombie.pid, os.WEXITED | os.WNOWAIT)  # it has exited; nobody reaped it yet
        if Path("/proc").is_dir():  # where a zombie can be told apart (a container's init may never reap it)
            assert not process_running(zombie.pid)
    finally:
        zombie.wait()


def test_only_temporaries_whose_writer_is_gone_are_removed(tmp_path):
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        kept = [tmp_path / f".a.png.{os.getpid()}-x.tmp", tmp_path / f".b.png.{live.pid}-x.tmp",
                tmp_path / ".c.png.tmp"]  # no pid, and recent: maybe someone's
        removed = [tmp_path / f".d.png.{dead.pid}-x.tmp", tmp_path / f".e.mp4.{dead.pid}.tmp", tmp_path / ".f.png.tmp"]
        for path in kept + removed:
            path.write_bytes(b"half")
        os.utime(removed[-1], (time.time() - 2 * UNOWNED_MAX_AGE,) * 2)  # no pid, untouched for long
        (tmp_path / "g.png").write_bytes(b"a figure")
        assert sorted(remove_stale_temporaries(tmp_path)) == sorted(removed)
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([p.name for p in kept] + ["g.png"])
    finally:
        live.kill()
        live.wait()
