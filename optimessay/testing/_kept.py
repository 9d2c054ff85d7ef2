"""torch's reference runs kept for later checks in this process (check_optimizer, check_scheduler).

A run can be kept only when its configuration determines it: plain data, whose repr is its value."""

from __future__ import annotations


def plain(value) -> bool:
    """Plain data (numbers, strings, None, and lists, tuples and dicts of them): its repr is its value."""
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) in (list, tuple):
        return all(plain(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and plain(v) for k, v in value.items())
    return False


class KeptRuns:
    """At most `size` runs by key; the oldest is dropped to make room."""

    def __init__(self, size: int = 256):
        self.size, self.runs = size, {}

    def get(self, key):
        return self.runs.get(key)

    def put(self, key, run) -> None:
        if len(self.runs) >= self.size:
            del self.runs[next(iter(self.runs))]
        self.runs[key] = run
