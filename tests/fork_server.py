"""A fork server for the tests: pay an expensive start-up once per test process, not once per child.

Some checks need a process of their own (its own directory, environment, output, exit) that has
imported something slow first: MkDocs and its plugins (tests/mkdocs_builds.py, ~3 s of CPU), torch
(tests/browser/program_server.py, ~3.5 s with torch._dynamo). A server process imports those once
(its preload list), then reads one request per line on stdin (JSON) and runs each in a child forked
from itself: a process as fresh as a new interpreter that imported the preload list and nothing else
(the server never runs a request itself, so every child starts from the same state).

    python [-I] tests/fork_server.py --path DIR ... --preload MODULE ...

`--path` folders are put first on sys.path only while the preload list is imported (a child's
sys.path is the interpreter's own, as for a fresh `python -I`). A request may add {"preload": [MODULE,
...]}: imported by the server before it forks for that request (and kept for the next ones), for
what only some requests need (the children import it anyway). A preloaded module that defines
`KINDS = {name: function}` provides the request kinds: a request {"kind": name, "timeout": seconds,
...} runs `function(request)` in the child, whose return value (JSON) is the answer's "result". The
answer is one line on stdout: {"status": the child's exit status (as subprocess gives it: -9 once
killed at its timeout), "result": what the function returned or null, "error": its traceback or ""}.
In a child, stdin is /dev/null and stdout goes to the server's stderr (stdout carries the protocol);
a kind may redirect both further (mkdocs_builds does, to files).

`ForkServer` is the client: it starts the server on the first request (and again after one that got
no answer), and `run(request, timeout)` returns the answer. With `shared=KEY` (the tests pass xdist's
run id) the clients with that key and the same server command share one server: the first starts it
(`--socket PATH`: the requests over a UNIX socket, several at once, a select loop and no thread) and
the others connect to it; it exits once it has had no client for IDLE seconds. Under `make test`
(4 workers) a private server per worker imported torch four times (3.7 s of CPU each).
"""

from __future__ import annotations

import importlib
import json
import os
import select
import sys
import time
import traceback

# --- the server (python fork_server.py ...) -------------------------------------------------------------


def serve(paths: list[str], preload: list[str]) -> None:
    """Import `preload` (with `paths` first on sys.path), then answer requests from stdin until it ends."""
    kinds = {}
    load(paths, preload, kinds)
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # nothing but the protocol on the protocol's stream: the server's and children's prints go to stderr
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            load(paths, request.get("preload", ()), kinds)
            answer = run_in_child(kinds, request)
        except Exception:  # noqa: BLE001 (a request's preload that does not import: its answer says why)
            answer = {"status": 1, "result": None, "error": traceback.format_exc()}
        protocol.write(json.dumps(answer) + "\n")
        protocol.flush()


_loaded: set[str] = set()  # the modules load() has imported and taken the KINDS of


def load(paths: list[str], names, kinds: dict) -> None:
    """Import the modules `names` in the server (with `paths` first on sys.path meanwhile) and add their KINDS."""
    saved = list(sys.path)
    sys.path[:0] = paths
    try:
        for name in names:
            if name in _loaded:
                continue
            _loaded.add(name)
            module = importlib.import_module(name)
            for kind, function in getattr(module, "KINDS", {}).items():
                if kind in kinds:
                    raise SystemExit(f"fork_server: request kind {kind!r} is defined twice ({name})")
                kinds[kind] = function
    finally:
        sys.path[:] = saved


def serve_socket(paths: list[str], preload: list[str], path: str, idle: float) -> None:
    """The shared server: the same requests over a UNIX socket at `path`, from any number of clients at
    once (xdist's workers), each request in a child of its own; no thread (a select loop). It exits once
    it has had no client and no child for `idle` seconds."""
    import socket

    kinds = {}
    load(paths, preload, kinds)
    os.dup2(2, 1)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path + ".new")
    listener.listen(64)
    os.rename(path + ".new", path)  # clients connect only once the preload list is imported
    clients = {}  # socket -> bytes received and not yet a whole line
    children = {}  # read end of a child's pipe -> {"pid", "client", "deadline", "chunks", "killed", "timeout"}
    quiet_since = time.monotonic()
    while True:
        now = time.monotonic()
        deadlines = [c["deadline"] for c in children.values() if not c["killed"]]
        wait = min([max(0.0, d - now) for d in deadlines] + [max(0.0, quiet_since + idle - now)])
        ready, _, _ = select.select([listener, *clients, *children], [], [], wait)
        for r in ready:
            if r is listener:
                client, _ = listener.accept()
                clients[client] = b""
            elif r in clients:
                data = r.recv(1 << 16)
                if not data:
                    del clients[r]
                    r.close()
                    continue
                clients[r] += data
                while b"\n" in clients[r]:
                    line, clients[r] = clients[r].split(b"\n", 1)
                    request = json.loads(line)
                    try:
                        load(paths, request.get("preload", ()), kinds)
                        fd, child = start_child(kinds, request, [listener, *clients, *children])
                        children[fd] = {**child, "client": r}
                    except Exception:  # noqa: BLE001 (its answer says why)
                        _send(r, {"status": 1, "result": None, "error": traceback.format_exc()})
            else:
                chunk = os.read(r, 1 << 16)
                if chunk:
                    children[r]["chunks"].append(chunk)
                    continue
                child = children.pop(r)
                os.close(r)
                _send(child["client"], finish_child(child))
        now = time.monotonic()
        for child in children.values():
            if not child["killed"] and now >= child["deadline"]:
                os.kill(child["pid"], 9)
                child["killed"] = True
        if clients or children:
            quiet_since = now
        elif now - quiet_since >= idle:
            break
    os.unlink(path)
    os.unlink(path + ".log")


def _send(client, answer: dict) -> None:
    try:
        client.sendall((json.dumps(answer) + "\n").encode())
    except OSError:
        pass  # that client is gone


def start_child(kinds: dict, request: dict, close: list) -> tuple[int, dict]:
    """Fork a child for `request` (it closes the server's descriptors `close` first); the read end of its
    answer's pipe and what finish_child() needs."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        for item in close:
            try:
                os.close(item if isinstance(item, int) else item.fileno())
            except OSError:
                pass
        _child(kinds, request, write_fd)  # never returns
    os.close(write_fd)
    timeout = float(request.get("timeout", 600))
    return read_fd, {"pid": pid, "deadline": time.monotonic() + timeout, "chunks": [], "killed": False,
                     "timeout": timeout}


def finish_child(child: dict) -> dict:
    """The answer of a child whose pipe has ended: wait for it."""
    status = os.waitstatus_to_exitcode(os.waitpid(child["pid"], 0)[1])
    data = b"".join(child["chunks"])
    if child["killed"]:
        return {"status": status, "result": None, "error": f"killed after its timeout of {child['timeout']} s"}
    if not data:
        return {"status": status, "result": None, "error": f"the child ended without an answer (exit status {status})"}
    return {"status": status, **json.loads(data)}


def run_in_child(kinds: dict, request: dict) -> dict:
    """Fork; the child runs the request's kind and sends its answer through a pipe. The child is killed
    (-9) once request["timeout"] seconds have passed (no thread in the server: a deadline on the pipe)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(kinds, request, write_fd)  # never returns
    os.close(write_fd)
    deadline = time.monotonic() + float(request.get("timeout", 600))
    chunks, killed = [], False
    with os.fdopen(read_fd, "rb") as pipe:
        while True:
            ready, _, _ = select.select([pipe], [], [], None if killed else max(0.0, deadline - time.monotonic()))
            if not ready:
                os.kill(pid, 9)
                killed = True
                continue
            chunk = os.read(pipe.fileno(), 1 << 16)  # read before waiting: a large answer fills the pipe
            if not chunk:
                break
            chunks.append(chunk)
    status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    data = b"".join(chunks)
    if killed:
        return {"status": status, "result": None, "error": f"killed after its timeout of {request.get('timeout')} s"}
    if not data:
        return {"status": status, "result": None, "error": f"the child ended without an answer (exit status {status})"}
    return {"status": status, **json.loads(data)}


def _child(kinds: dict, request: dict, write_fd: int) -> None:
    """In the forked child: run the request, send the answer through `write_fd`, never return."""
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115
    answer = {"result": None, "error": ""}
    try:
        if request.get("kind") not in kinds:
            raise ValueError(f"unknown request kind {request.get('kind')!r}; this server knows {sorted(kinds)}")
        answer["result"] = kinds[request["kind"]](request)
    except BaseException:  # noqa: BLE001 (the answer carries it, as a crashed process's stderr would)
        answer["error"] = traceback.format_exc()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(json.dumps(answer).encode())
    finally:
        os._exit(0)


# --- the client -----------------------------------------------------------------------------------------


class ForkServer:
    """The client of one server: `ForkServer(paths, preload, isolated=..., env=...)`; `run(request,
    timeout)` starts it if needed and returns the answer. `isolated`: the server runs as `python -I`
    (no PYTHON* variables, no user site, nothing of the working directory on sys.path); `env`: its
    whole environment (None: this process's); `cwd`: its working directory."""

    SCRIPT = __file__

    IDLE = 20  # seconds a shared server waits without any client before it exits

    def __init__(self, paths, preload, *, isolated: bool = False, env: dict | None = None, cwd: str | None = None,
                 shared: str | None = None):
        import hashlib
        import tempfile
        import threading

        self.paths, self.preload = [str(p) for p in paths], list(preload)
        self.isolated, self.env, self.cwd = isolated, env, cwd
        self.process = None
        self.stderr = tempfile.TemporaryFile()  # the server's and children's output (a pipe nobody read would fill)
        self.lock = threading.Lock()
        # shared: one server for every client with this key and this command (xdist's workers of one run)
        self.socket_path, self.connection = None, None
        if shared:
            key = json.dumps([shared, self.command(), env, cwd, os.getuid()]).encode()
            self.socket_path = os.path.join(tempfile.gettempdir(), f"oe-fork-{hashlib.sha256(key).hexdigest()[:24]}.sock")

    def command(self) -> list[str]:
        args = [sys.executable, *(["-I"] if self.isolated else []), self.SCRIPT]
        for path in self.paths:
            args += ["--path", path]
        for name in self.preload:
            args += ["--preload", name]
        return args

    def start(self) -> None:
        import subprocess

        self.process = subprocess.Popen(self.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                        cwd=self.cwd, env=self.env, text=True, start_new_session=True)

    def stderr_tail(self, n: int = 3000) -> str:
        if self.socket_path:
            try:
                with open(self.socket_path + ".log", "rb") as log:
                    log.seek(0, os.SEEK_END)
                    log.seek(max(0, log.tell() - n))
                    return log.read().decode("utf-8", "replace")
            except OSError:
                return ""
        self.stderr.seek(0, os.SEEK_END)
        self.stderr.seek(max(0, self.stderr.tell() - n))
        return self.stderr.read().decode("utf-8", "replace")

    def connect(self):
        """A connection to the shared server, started (detached, in a session of its own) by the first
        client that finds none; a lock file makes the others wait for it instead of starting their own."""
        import fcntl
        import socket
        import subprocess

        def attempt():
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                client.connect(self.socket_path)
                return client
            except OSError:
                client.close()
                return None

        client = attempt()
        if client:
            return client
        # one lock file per user for every shared server (held only while one starts): nothing piles up in /tmp
        with open(os.path.join(os.path.dirname(self.socket_path), f"oe-fork-{os.getuid()}.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            client = attempt()
            if client:
                return client
            for stale in (self.socket_path, self.socket_path + ".new"):
                if os.path.exists(stale):
                    os.unlink(stale)
            with open(self.socket_path + ".log", "ab") as log:
                server = subprocess.Popen([*self.command(), "--socket", self.socket_path, "--idle", str(self.IDLE)],
                                          stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.cwd, env=self.env,
                                          start_new_session=True)
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                client = attempt()
                if client:
                    server.returncode = 0  # not ours to wait for: it outlives this client (no ResourceWarning)
                    return client
                if server.poll() is not None:
                    break
                time.sleep(0.05)
            raise RuntimeError(f"the shared fork server did not start:\n{self.stderr_tail()}")

    def run_shared(self, request: dict, timeout: float) -> dict:
        """One request to the shared server. A connection that fails before the request is sent (the
        server ended: killed, or idle at the moment this client came back) is made again once, which
        starts a new server if none listens; one that fails after it raises RuntimeError and is
        dropped, so the next request connects (and if need be starts a server) afresh."""
        line = (json.dumps({**request, "timeout": timeout}) + "\n").encode()
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = self.connect()
            try:
                self.connection.sendall(line)
                break
            except OSError:
                self.drop_connection()
                if attempt == 2:
                    raise
        data = b""
        deadline = time.monotonic() + timeout + 60
        while not data.endswith(b"\n"):
            try:
                ready, _, _ = select.select([self.connection], [], [], max(0.0, deadline - time.monotonic()))
                chunk = self.connection.recv(1 << 16) if ready else b""
            except OSError:
                chunk = b""
            if not chunk:
                self.drop_connection()
                raise RuntimeError(f"the shared fork server ({', '.join(self.preload)}) gave no answer within {timeout} s:\n"
                                   f"{self.stderr_tail()}")
            data += chunk
        return json.loads(data)

    def drop_connection(self) -> None:
        try:
            self.connection.close()
        finally:
            self.connection = None

    def run(self, request: dict, timeout: float) -> dict:
        """{"status", "result", "error"} of one request; the child is killed after `timeout` seconds. A
        server that gives no answer (it died, or hangs 60 s past the timeout) is killed and RuntimeError
        is raised with the end of its stderr."""
        with self.lock:
            if self.socket_path:
                return self.run_shared(request, timeout)
            if self.process is None or self.process.poll() is not None:
                self.start()
            self.process.stdin.write(json.dumps({**request, "timeout": timeout}) + "\n")
            self.process.stdin.flush()
            ready, _, _ = select.select([self.process.stdout], [], [], timeout + 60)
            line = self.process.stdout.readline() if ready else ""
            if not line:
                self.stop()
                raise RuntimeError(f"{os.path.basename(self.SCRIPT)} ({', '.join(self.preload)}) gave no answer "
                                   f"within {timeout} s:\n{self.stderr_tail()}")
            return json.loads(line)

    def stop(self) -> None:
        """Kill the server and any child it forked (one session)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait()
        self.process = None

    def close(self) -> None:
        """The server ends at the end of its input (waited for; killed if it does not within 30 s)."""
        import subprocess

        if self.connection is not None:
            self.connection.close()  # a shared server ends once it has had no client for IDLE seconds
            self.connection = None
        if self.process is not None and self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.stop()
        self.process = None
        self.stderr.close()


def _arguments(argv: list[str]) -> tuple[list[str], list[str], list[str]]:
    paths, preload, socket_path = [], [], []
    for flag, value in zip(argv[::2], argv[1::2], strict=True):
        {"--path": paths, "--preload": preload, "--socket": socket_path, "--idle": socket_path}[flag].append(value)
    return paths, preload, socket_path


if __name__ == "__main__":
    _paths, _preload, _socket = _arguments(sys.argv[1:])
    if _socket:
        serve_socket(_paths, _preload, _socket[0], idle=float(_socket[1]))
    else:
        serve(_paths, _preload)
