"""scripts/figures/_results.py: an experiment shown by a figure and by its numbers runs once per
build, whichever worker asks first, and runs again when its parameters or the package change."""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.figures import _results  # noqa: E402

CALLS = "calls.txt"


def experiment(folder: str, x: int) -> dict:
    """Counts its runs in a file: the test reads how often it was computed."""
    with open(Path(folder) / CALLS, "a") as f:
        f.write(f"{x}\n")
    return {"x": x, "square": x * x}


def calls(tmp_path) -> list[str]:
    path = tmp_path / CALLS
    return path.read_text().split() if path.exists() else []


@pytest.fixture
def results(tmp_path, monkeypatch):
    monkeypatch.setattr(_results, "FOLDER", tmp_path / "cache")
    return _results


def test_a_second_request_reads_the_first_run(results, tmp_path):
    first = results.shared(experiment, folder=str(tmp_path), x=3)
    again = results.shared(experiment, folder=str(tmp_path), x=3)
    assert first == again == {"x": 3, "square": 9}
    assert calls(tmp_path) == ["3"]
    results.shared(experiment, folder=str(tmp_path), x=4)  # other parameters: another run
    assert calls(tmp_path) == ["3", "4"]


def test_a_changed_package_runs_it_again(results, tmp_path, monkeypatch):
    results.shared(experiment, folder=str(tmp_path), x=3)
    monkeypatch.setattr(_results, "_package_digest", lambda: "another version of optimessay")
    results.shared(experiment, folder=str(tmp_path), x=3)
    assert calls(tmp_path) == ["3", "3"]


def _worker(folder: str, cache: str, queue) -> None:
    _results.FOLDER = Path(cache)
    queue.put(_results.shared(experiment, folder=folder, x=7))


def test_two_workers_at_once_compute_once(tmp_path):
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [context.Process(target=_worker, args=(str(tmp_path), str(tmp_path / "cache"), queue)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert [w.exitcode for w in workers] == [0, 0]
    assert [queue.get(timeout=5) for _ in workers] == [{"x": 7, "square": 49}] * 2
    assert calls(tmp_path) == ["7"]


def test_a_nested_function_is_refused(results, tmp_path):
    def local(x):
        return x

    with pytest.raises(ValueError, match="not a module-level function"):
        results.shared(local, x=1)
