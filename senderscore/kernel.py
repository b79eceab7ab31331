"""The report's kernel: started early, warmed while this process loads, stopped at once after.

A report's time is mostly serial work in its kernel (start, imports, data, charts). This
process has its own imports to do first (papermill, pandas...), and the machine more than one
core; so ``senderscore report`` starts the kernel before it loads them (:func:`prestart`, from
:mod:`senderscore.entry`), and the kernel imports the notebook's module as it starts.
The run then takes that kernel (:func:`take`) instead of starting one. A kernel is killed as
soon as its notebook has run: nothing in it is left to save. Only jupyter_client is imported
here, which is what lets this happen before everything else.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import tempfile
from pathlib import Path
from typing import Any

KERNEL_LOG = "kernel.log"
WARM_UP = "import senderscore.notebook"  # what every report notebook's first cell imports


class Kernel:
    """A python3 kernel on Unix sockets in a temporary folder (nothing listens on the network),
    its own stderr in ``kernel.log`` there; ``manager`` is what papermill runs the notebook on."""

    def __init__(self, cwd: str | None = None, warm_up: str = WARM_UP) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="senderscore-kernel-", dir=_socket_parent())
        self.folder = Path(self._tmp.name)
        self.cwd = cwd or os.getcwd()
        self._loop = asyncio.new_event_loop()
        self.manager = _manager_class(self.folder)(kernel_name="python3")
        # The warm-up runs as the kernel starts, before it answers anyone: not a cell, no trace.
        warm = [f"--IPKernelApp.exec_lines={warm_up}"] if warm_up else []
        try:
            self._loop.run_until_complete(self.manager.start_kernel(cwd=self.cwd, extra_arguments=warm))
        except BaseException:
            # The process may be running already (a socket failed after its launch): without
            # this it would outlive us, and the half-open sockets hang this process's exit.
            self.stop()
            raise

    @property
    def log(self) -> str:
        """What the kernel wrote to its stderr (relayed when a run fails)."""
        path = self.folder / KERNEL_LOG
        return path.read_text(encoding="utf-8", errors="replace").strip() if path.exists() else ""

    def alive(self) -> bool:
        return self.manager.has_kernel and self._loop.run_until_complete(self.manager.is_alive())

    def stop(self) -> None:
        """Kill the kernel, close every client's sockets and remove the folder (idempotent)."""
        if self.manager.has_kernel:
            self._loop.run_until_complete(self.manager.shutdown_kernel(now=True))
        for client in self.manager.clients:
            client.stop_channels()
        self.manager.clients.clear()
        self.manager.context.destroy(linger=0)
        self._tmp.cleanup()


SOCKET_PATH = 100
"""Longest socket path we make: Unix sockets take 107 bytes on Linux, 103 on macOS."""


def _socket_parent() -> str:
    """Where the kernel's folder goes: the temporary folder, unless its path is too long for the
    sockets inside (``<folder>/kernel-<port>``; a deep TMPDIR, such as a test runner's), then /tmp."""
    base = tempfile.gettempdir()
    longest = len(os.path.join(base, "senderscore-kernel-xxxxxxxx", "kernel-65535"))
    return base if longest <= SOCKET_PATH or not os.path.isdir("/tmp") else "/tmp"


def _manager_class(folder: Path) -> type:
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = str(folder / "kernel")
            self.clients: list[Any] = []  # papermill's, closed by Kernel.stop

        def client(self, **kwargs: Any) -> Any:
            made = super().client(**kwargs)
            self.clients.append(made)
            return made

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            # ipykernel can print a traceback when its sockets close (ipython/ipykernel#1518):
            # noise in every scheduled run's mail, so its stderr goes to a log.
            with (folder / KERNEL_LOG).open("ab") as log:
                await super()._async_launch_kernel(kernel_cmd, **{**kw, "stderr": log})

    return IPCKernelManager


_early: Kernel | None = None


def prestart() -> None:
    """Start the kernel of this process's report now (a command line about to run one); a
    kernel that cannot start here is left to the run, which then says why."""
    global _early
    discard()
    try:
        _early = Kernel()
    except Exception:  # not installed, no kernelspec...: the run reports it properly
        return
    atexit.register(_early.stop)  # whatever happens, no kernel outlives this process


def discard() -> None:
    """Stop a started kernel that no run took (the command failed before its report ran)."""
    global _early
    kernel, _early = _early, None
    if kernel is not None:
        kernel.stop()


def take(cwd: str) -> Kernel:
    """The kernel :func:`prestart` started, if it runs in ``cwd`` and is alive; else a new one."""
    global _early
    kernel, _early = _early, None
    if kernel is not None:
        if kernel.cwd == cwd and kernel.alive():
            return kernel
        kernel.stop()
    return Kernel(cwd)
