"""The mock's own process: finding the executable the wheel installed, starting it on a free port,
stopping it. One place says what to do on a platform the wheel carries no executable for."""

from __future__ import annotations

import atexit
import collections
import os
import platform
import queue
import shutil
import subprocess
import sysconfig
import threading
from typing import Any, Deque, Dict, List, Optional

from ._client import Client, MockError

EXECUTABLE = "biometric-kz-mock"
CARRIED = "Linux x86-64 with glibc 2.34 or later"
START_TIMEOUT = 30.0


class ExecutableNotFound(MockError):
    """No biometric-kz-mock executable for this platform: the message says how to get one."""


def how_to_build(why: str) -> str:
    machine = f"{platform.system()} {platform.machine()}"
    return (
        f"{why}. The package carries the executable for {CARRIED} only (this is {machine}). "
        "Build it from source with Rust (https://rustup.rs): in a checkout of the biometric-kz-mock "
        "repository, `cargo install --locked --path .` puts it on PATH (or `cargo build --release` and set "
        "BKZ_MOCK_BIN=target/release/biometric-kz-mock). Or point BKZ_MOCK_URL at a running mock, or run "
        "its container (biometric_kz_mock.testcontainers.BiometricKzMockContainer)."
    )


def find_executable() -> str:
    """BKZ_MOCK_BIN, else the one this environment's wheel installed, else PATH's."""
    given = os.environ.get("BKZ_MOCK_BIN")
    if given:
        if os.path.isfile(given) and os.access(given, os.X_OK):
            return given
        raise ExecutableNotFound(how_to_build(f"BKZ_MOCK_BIN={given} is not an executable file"))
    schemes = [sysconfig.get_path("scripts")]
    try:
        schemes.append(sysconfig.get_path("scripts", f"{os.name}_user"))
    except KeyError:
        pass
    for folder in schemes:
        candidate = os.path.join(folder, EXECUTABLE)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which(EXECUTABLE)
    if on_path:
        return on_path
    raise ExecutableNotFound(how_to_build(f"No {EXECUTABLE} executable was found"))


def command_line(flags: Dict[str, Any]) -> List[str]:
    """`start(seed=7, strict=True, tls_name=["a", "b"])` → `--seed 7 --strict --tls-name a --tls-name b`."""
    args: List[str] = []
    for name, value in flags.items():
        option = "--" + name.replace("_", "-")
        if value is None or value is False:
            continue
        if value is True:
            args.append(option)
        elif isinstance(value, (list, tuple)):
            for item in value:
                args += [option, str(item)]
        else:
            args += [option, str(value)]
    return args


class Mock(Client):
    """A mock server this process started: a context manager, stopped by `stop()` or at exit."""

    def __init__(self, process: "subprocess.Popen[str]", url: str, tls_url: Optional[str], admin_token: Optional[str], log: Deque[str]) -> None:
        super().__init__(url, admin_token)
        self.process = process
        self.tls_url = tls_url
        self._log = log
        atexit.register(self.stop)

    def logs(self) -> str:
        """The last lines the server wrote to its standard error."""
        return "".join(self._log)

    def stop(self) -> None:
        """Stops the server (SIGTERM; it finishes what it is answering) and waits for it."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        atexit.unregister(self.stop)

    def __enter__(self) -> "Mock":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _keep_tail(stream: Any, log: Deque[str]) -> None:
    for line in stream:
        log.append(line)


def start(*args: str, **flags: Any) -> Mock:
    """Starts the mock on a free port of 127.0.0.1 and returns it once it answers. Keyword arguments
    are its `serve` flags with underscores (`start(seed=7, scenario="liveness-fails")`; see
    `biometric-kz-mock serve --help`), positional ones are passed as they are (`start("--strict")`);
    `port` defaults to 0 (a free one)."""
    flags.setdefault("port", 0)
    command = [find_executable(), "serve", *args, *command_line(flags)]
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
    )
    log: Deque[str] = collections.deque(maxlen=200)
    stderr = threading.Thread(target=_keep_tail, args=(process.stderr, log), daemon=True)
    stderr.start()
    lines: "queue.Queue[Optional[str]]" = queue.Queue()
    wanted = 2 if flags.get("tls_port") is not None or any(a.startswith("--tls-port") for a in args) else 1

    def read_stdout() -> None:
        seen = 0
        for line in process.stdout:  # type: ignore[union-attr]
            if seen < wanted:  # the addresses; anything later is drained, not kept
                seen += line.startswith("listening on ")
                lines.put(line.strip())
        lines.put(None)

    threading.Thread(target=read_stdout, daemon=True).start()
    urls: List[str] = []
    try:
        while len(urls) < wanted:
            line = lines.get(timeout=START_TIMEOUT)
            if line is None:
                break
            if line.startswith("listening on "):
                urls.append(line.removeprefix("listening on ").split(" ")[0])
    except queue.Empty:
        pass
    if len(urls) < wanted:
        process.kill()
        process.wait()
        stderr.join(timeout=2)  # all it said before it ended
        raise MockError(f"{' '.join(command)} did not start (exit status {process.returncode}):\n" + "".join(log))
    token = flags.get("admin_token")
    return Mock(process, urls[0], urls[1] if wanted == 2 else None, token, log)
