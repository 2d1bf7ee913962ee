"""The jupyter_client side of kernels forked by a kernel server (:mod:`plusdig.sphinx.forkserver`).

:func:`kernel_manager` is an asynchronous ``KernelManager`` whose provisioner asks the server
for the kernel instead of starting ``python -m ipykernel_launcher``, whose client is ready as
soon as the kernel has answered (:func:`_wait_for_ready`), and whose shutdown leaves the
kernel's exit to a thread (:func:`_reap_later`; :func:`reap_all` waits for them all).
"""

from __future__ import annotations

import os
import time
from typing import Any

from plusdig.sphinx.forkserver import Forked, ForkServer, forks

__all__ = ["kernel_manager", "reap_all"]


def kernel_manager(server: ForkServer, kernel_name: str, config: Any) -> Any:
    """A jupyter_client ``AsyncKernelManager`` whose kernel the server forks.

    Asynchronous, as nbclient's own: with a blocking client nbclient's wait for a cell's
    output blocks its event loop, so neither the cell timeout nor the check that the kernel
    is alive can fire (a cell that hangs, or a kernel that dies, would hang the build).

    Its client is ready when the kernel has answered ``kernel_info`` on the shell channel and
    its idle status for that request has come on IOPub (:func:`_wait_for_ready`), and its
    sockets retry connecting to the starting kernel every 5 ms: jupyter_client's own waits are
    0.2 s of IOPub silence and a reconnect every 0.1 s. Its shutdown asks the kernel to end
    and returns: the kernel's exit (30-100 ms) is waited for in a thread, which ends it by
    force after ``shutdown_wait_time`` and then ends the manager's ZeroMQ context
    (:func:`_reap_later`, :func:`reap_all`).
    """
    import uuid

    import zmq.asyncio
    from jupyter_client import AsyncKernelClient, AsyncKernelManager
    from jupyter_client.provisioning import LocalProvisioner
    from traitlets import default

    class ForkProvisioner(LocalProvisioner):  # type: ignore[misc]
        async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
            if not forks(cmd):
                return await super().launch_kernel(cmd, **kwargs)
            env = dict(kwargs.get("env") or os.environ)
            cwd = str(kwargs.get("cwd") or os.getcwd())
            self.process = server.fork(cmd, env, cwd)
            self.pid = self.pgid = self.process.pid
            self.cwd = cwd
            return self.connection_info

    class ReadyClient(AsyncKernelClient):  # type: ignore[misc]
        wait_for_ready = _wait_for_ready

        @default("context")
        def _context_default(self) -> Any:
            # the client connects before the kernel listens: retry every 5 ms, not 100 ms
            self._created_context = True
            context = zmq.asyncio.Context()
            context.setsockopt(zmq.RECONNECT_IVL, 5)
            return context

    class ForkedKernelManager(AsyncKernelManager):  # type: ignore[misc]
        async def _async_shutdown_kernel(self, now: bool = False,
                                         restart: bool = False) -> None:
            process = getattr(self.provisioner, "process", None)
            if now or restart or not self.owns_kernel or not isinstance(process, Forked):
                return await super()._async_shutdown_kernel(now, restart)
            self.shutting_down = True
            self.stop_restarter()
            await self._async_request_shutdown()
            # the manager's own ZeroMQ context is ended in the reaper, once the kernel is gone:
            # ending it here waits out its linger (0.1 s a notebook) for the shutdown request,
            # and so would the reaper if it lingered (the build waits for the reapers)
            context = self.context if self._created_context else None
            self._created_context = False
            await self._async_cleanup_resources()  # closes its socket (without waiting)
            _reap_later(process, max(self.shutdown_wait_time, 0.2), context)
            return None

        shutdown_kernel = _async_shutdown_kernel

    km = ForkedKernelManager(kernel_name=kernel_name, config=config)
    km.client_factory = ReadyClient
    km.kernel_id = str(uuid.uuid4())
    km.provisioner = ForkProvisioner(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec,
                                     parent=km)
    return km


_REAPERS: list[Any] = []  # threads waiting for kernels asked to end (_reap_later)


def _reap_later(process: Forked, wait: float, context: Any = None) -> None:
    """Wait in a thread for ``process`` (a kernel asked to shut down) to end: after ``wait / 2``
    seconds send it SIGTERM, after ``wait`` SIGKILL, as jupyter_client does; then end
    ``context`` (its kernel manager's ZeroMQ context, whose sockets are closed) at once: what
    it still holds for the kernel can no longer be delivered (jupyter_client's
    ``destroy(linger=100)`` would wait 0.1 s for it)."""
    import subprocess
    import threading

    def run() -> None:
        try:
            for step in (None, process.terminate, process.kill):
                try:
                    if step is not None:
                        step()
                    process.wait(None if step is process.kill else wait / 2)
                    return
                except (subprocess.TimeoutExpired, OSError):
                    continue
        finally:
            if context is not None:
                context.destroy(linger=0)

    thread = threading.Thread(target=run, name=f"plusdig-reap-{process.pid}", daemon=True)
    thread.start()
    _REAPERS[:] = [t for t in _REAPERS if t.is_alive()] + [thread]


def reap_all(timeout: float = 30.0) -> None:
    """Wait until every kernel asked to shut down here has ended (:func:`_reap_later`)."""
    deadline = time.monotonic() + timeout
    for thread in list(_REAPERS):
        thread.join(max(0.0, deadline - time.monotonic()))
    _REAPERS[:] = [t for t in _REAPERS if t.is_alive()]


async def _wait_for_ready(client: Any, timeout: float | None = None) -> None:
    """Wait until the kernel of ``client`` (a jupyter_client ``KernelClient``) answers.

    As jupyter_client's ``wait_for_ready``: ask for ``kernel_info`` until the shell channel
    replies and IOPub is seen to be connected, else start over. The kernel publishes its idle
    status for a request after the reply, so that status (not 0.2 s without a message) says
    that IOPub is connected and that everything the kernel published before is read; messages
    for no request of this client's are ignored by nbclient, which reads by parent.
    """
    from queue import Empty

    from jupyter_core.utils import ensure_async

    deadline = time.monotonic() + (float("inf") if timeout is None else timeout)

    async def next_msg(channel: Any, wait: float) -> Any:
        try:
            return await ensure_async(channel.get_msg(timeout=max(wait, 0.0)))
        except Empty:
            return None

    while True:
        client.kernel_info()
        reply = await next_msg(client.shell_channel, 1.0)
        if reply is not None and reply["msg_type"] == "kernel_info_reply":
            request = reply["parent_header"].get("msg_id")
            until = time.monotonic() + 0.2
            while (msg := await next_msg(client.iopub_channel, until - time.monotonic())) \
                    is not None:
                if msg["msg_type"] == "status" and msg["parent_header"].get("msg_id") == request \
                        and msg["content"].get("execution_state") == "idle":
                    client._handle_kernel_info_reply(reply)
                    return
        if not await ensure_async(client.is_alive()):
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout} seconds")
