"""Workers forked from one warm process: ``python -m terrane.engine.operations.forkserver``.

A worker spends most of its start-up importing ``pulumi.automation``, terrane's
spec models and the program. The driver starts one fork server per run, with
only the base environment (no account's credential, no backend secret), which
imports all that once; each environment's worker is then a fork of it that,
before running any of terrane's code, takes the environment the driver built
for it (``engine.operations.workspace.allowed_environment``), its own session (so Ctrl-C
reaches it only through the driver) and the driver's pipes as stdin, stdout
and stderr. Everything else a worker does is what ``python -m terrane.engine.operations.worker``
does, including cancelling when its stdin closes because the driver is gone.

The server imports what every worker needs (``PRELOAD``) as soon as it starts.
The driver talks to it over a ``SOCK_SEQPACKET`` socket, in the messages of
``engine.operations.protocol``: a ``Preload`` (the project, its program's module
and the CLI), then a ``Fork`` per worker, the worker's pipes passed beside it as
file descriptors. Each worker has a
status pipe too: the worker writes its pid there once it is in its own
session, and the server its exit status when it ends. The server is
single-threaded (forking a threaded process is unsafe) and exits when the
driver's end of the socket closes.

A caller about to run stacks, the CLI, may ``start_early``: the server the
next run takes then imports while the caller does its own imports and checks
its input, rather than after. That is why this module imports the protocol,
and so terrane's spec models, only where it is used: starting a server must
cost the caller nothing but a ``fork`` and ``exec``.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import traceback
from collections.abc import Iterable, Mapping
from contextlib import suppress
from pathlib import Path
from typing import IO, Self

from terrane.engine.errors import InvalidInputError
from terrane.engine.operations.programs import search_project

START_METHOD_ENV = "TERRANE_START_METHOD"
START_METHODS = ("forkserver", "spawn")
"""How workers start: forked from the fork server (the default), or each a new interpreter."""

# What every worker imports before it runs anything, and the server as it starts: the Automation API and terrane's
# engine. The program's module comes with the ``Preload``: it is the project's code, run only once the input holds.
PRELOAD = ("pulumi.automation", "terrane.engine.operations.worker", "terrane.engine.project", "terrane.engine.operations.workspace",
           "terrane.engine.operations.programs", "terrane.engine.drift.detect", "terrane.engine.clouds")
_MESSAGE_LIMIT = 1 << 20


def start_method(environ: Mapping[str, str] = os.environ) -> str:
    method = environ.get(START_METHOD_ENV) or START_METHODS[0]
    if method not in START_METHODS:
        raise InvalidInputError(f"{START_METHOD_ENV}={method}: expected one of {', '.join(START_METHODS)}")
    return method


def spawn_worker(env: Mapping[str, str], cwd: Path) -> subprocess.Popen[str]:
    """A worker of its own (``TERRANE_START_METHOD=spawn``): a new interpreter,
    ``python -m terrane.engine.operations.worker``, with exactly ``env``."""
    return subprocess.Popen(
        [sys.executable, "-P", "-m", "terrane.engine.operations.worker"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env), cwd=cwd, text=True,
        # Its own process group: Ctrl-C reaches it (and its Pulumi CLI) only
        # through the driver, once, so the CLI can cancel gracefully.
        start_new_session=True,
    )


class ForkServer:
    """The driver's handle on a fork server: ``preload`` once, then ``spawn`` starts a worker."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = dict(environ)
        self._socket, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with theirs:
            self._process = subprocess.Popen(
                [sys.executable, "-P", "-m", "terrane.engine.operations.forkserver", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),), env=self.environ,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                # Its own session: a Ctrl-C at the terminal is the driver's to pass on, not the server's.
                start_new_session=True,
            )
        self._lock = threading.Lock()
        self._forked = False

    def preload(self, project_root: Path, modules: Iterable[str], pulumi_root: str | None) -> None:
        """What the server imports beside ``PRELOAD`` (from ``project_root``), and the CLI it asks ``pulumi version``."""
        from terrane.engine.operations.protocol import Preload, to_json

        self._socket.send(to_json(Preload(tuple(dict.fromkeys(modules)), pulumi_root, str(project_root))).encode())

    def spawn(self, environ: Mapping[str, str], cwd: Path) -> Forked:
        """A worker with exactly ``environ``, in ``cwd``, its stdin, stdout and stderr pipes to this process."""
        from terrane.engine.operations.protocol import Fork, to_json

        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        status_r, status_w = os.pipe()
        theirs = (stdin_r, stdout_w, stderr_w, status_w)
        try:
            with self._lock:
                socket.send_fds(self._socket, [to_json(Fork(dict(environ), str(cwd))).encode()], list(theirs))
                self._forked = True
        except OSError:
            for fd in (stdin_w, stdout_r, stderr_r, status_r):
                os.close(fd)
            raise
        finally:
            for fd in theirs:
                os.close(fd)
        return Forked(stdin_w, stdout_r, stderr_r, status_r)

    def close(self) -> None:
        """Stop the server; workers still running go on, each watching its own stdin.

        A server that never forked is killed at once, rather than waited for while it imports.
        """
        self._socket.close()
        if not self._forked:
            self._process.kill()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


class Forked:
    """A worker forked by the server: what the driver needs of a ``subprocess.Popen``, context manager included."""

    def __init__(self, stdin: int, stdout: int, stderr: int, status: int) -> None:
        self.stdin: IO[str] = open(stdin, "w")  # noqa: SIM115 - closed on exit, as Popen's
        self.stdout: IO[str] = open(stdout)  # noqa: SIM115
        self.stderr: IO[str] = open(stderr)  # noqa: SIM115
        self._status = open(status)  # noqa: SIM115
        self.returncode: int | None = None
        said, _, pid = self._status.readline().partition(" ")
        if said != "pid":
            self.__exit__()
            raise OSError("the fork server stopped" if not said else "the worker ended as it started")
        self.pid = int(pid)

    def wait(self) -> int:
        """The worker's exit status, as the server saw it end; -1 if the server went first."""
        if self.returncode is None:
            said, _, code = self._status.readline().partition(" ")
            self.returncode = int(code) if said == "exit" else -1
            self._status.close()
        return self.returncode

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.stdout.close()
        self.stderr.close()
        with suppress(OSError):
            self.stdin.close()
        self.wait()


_early: ForkServer | None = None
_early_lock = threading.Lock()


def start_early(environ: Mapping[str, str]) -> None:
    """Start the fork server the next run in this process takes (``take``), unless workers are spawned.

    One not taken is stopped when the process exits.
    """
    global _early
    with suppress(InvalidInputError), _early_lock:  # a start method that is wrong: the run says so
        if _early is None and start_method() == "forkserver":
            _early = ForkServer(environ)


def take(environ: Mapping[str, str]) -> ForkServer:
    """The server ``start_early`` started, if it has exactly ``environ``; else a new one."""
    server = _take_early()
    if server is not None and server.environ == dict(environ):
        return server
    if server is not None:
        server.close()
    return ForkServer(environ)


@atexit.register
def _stop_early() -> None:
    if (server := _take_early()) is not None:
        server.close()


def _take_early() -> ForkServer | None:
    global _early
    with _early_lock:
        server, _early = _early, None
    return server


def serve(control: socket.socket) -> None:
    """Preload, then fork a worker per message until the driver closes its end."""
    _import_each(PRELOAD)
    message = control.recv(_MESSAGE_LIMIT)
    if not message:  # started early, and the run never came
        return
    from terrane.engine.operations.protocol import fork_from_json, preload_from_json

    request = preload_from_json(message)
    os.chdir(request.project_root)  # where the program is imported from, as a spawned worker would
    search_project(request.project_root)
    _import_each(request.modules)
    with suppress(Exception):
        from terrane.engine.operations.workspace import pulumi_command

        pulumi_command(request.pulumi_root)  # runs `pulumi version` once for every worker
    # What was loaded stays shared with every fork: the collector never touches (and copies) it.
    gc.freeze()

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    statuses: dict[int, int] = {}
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj is control:
                message, fds, _, _ = socket.recv_fds(control, _MESSAGE_LIMIT, 4)
                if not message:
                    return
                fork = fork_from_json(message)
                statuses[_fork(fork.environ, fork.cwd, *fds)] = fds[3]
                for fd in fds[:3]:
                    os.close(fd)
            else:
                os.read(wake_r, 512)
                _reap(statuses)


def _import_each(names: Iterable[str]) -> None:
    for name in names:
        # A module that fails to import here fails in the worker too, which reports it.
        with suppress(Exception):
            importlib.import_module(name)


def _reap(statuses: dict[int, int]) -> None:
    """Tell the driver how each worker that ended, ended."""
    while statuses:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        fd = statuses.pop(pid, None)
        if fd is not None:
            with suppress(OSError):
                os.write(fd, f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
            os.close(fd)


def _fork(environ: Mapping[str, str], cwd: str, stdin: int, stdout: int, stderr: int, status: int) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        os.setsid()
        # Only now, in its own session, can the driver signal the worker's process group by its pid.
        os.write(status, f"pid {os.getpid()}\n".encode())
        for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
            os.dup2(fd, target)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(environ)
        from terrane.engine.operations import worker

        code = worker.main()
    except BaseException:  # noqa: BLE001 - the worker's last word goes to its stderr, whatever it is
        traceback.print_exc()
    finally:
        with suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])))
