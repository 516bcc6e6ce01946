"""Serving Mission Control: loopback by default, a socket bound before uvicorn starts, the URL printed."""

from __future__ import annotations

import ipaddress
import signal
import socket
import sys
from dataclasses import dataclass
from types import FrameType

from nonstop.errors import UserError
from nonstop.home.paths import Home


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8787  # 0: any free port (the printed URL says which)
    allow_remote: bool = False


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(opts: ServeOptions) -> None:
    if not is_loopback(opts.host) and not opts.allow_remote:
        raise UserError(f"--host: {opts.host} is not a loopback address; Mission Control binds 127.0.0.1 "
                        f"unless you pass --allow-remote (then the bearer token alone guards it)")
    if not 0 <= opts.port <= 65535:
        raise UserError(f"--port: {opts.port} is out of range; use 1-65535, or 0 for any free port")


def bind(opts: ServeOptions) -> socket.socket:
    """Bind and listen now, so a busy port is one line for a person, not a uvicorn traceback."""
    family = socket.AF_INET6 if ":" in opts.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((opts.host.strip("[]"), opts.port))
    except OSError as exc:
        sock.close()
        raise UserError(f"--port: cannot listen on {opts.host}:{opts.port} ({exc.strerror}); "
                        f"pick another port, or 0 for any free one") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def dashboard_url(host: str, port: int, token: str) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/#token={token}"


def _server_class() -> type:
    import uvicorn

    class StopOnSignal(uvicorn.Server):
        """SIGTERM/SIGINT are the normal way to stop Mission Control: shut down gracefully and exit 0,
        rather than re-raise the signal after shutdown as uvicorn does by default."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True  # a second Ctrl-C: stop waiting for open streams
            else:
                self.should_exit = True

    return StopOnSignal


def serve(home: Home, opts: ServeOptions, token: str) -> None:
    """Run until SIGINT/SIGTERM. Prints `Mission Control: <url>` on stdout once listening."""
    import uvicorn

    from nonstop.mission_control.app import create_app

    check_host(opts)
    sock = bind(opts)
    port = sock.getsockname()[1]
    holder: dict[str, uvicorn.Server] = {}
    app = create_app(home, token, stopping=lambda: bool(holder and holder["server"].should_exit))
    # Streams end on shutdown (see `stopping`); the grace period bounds a stuck one.
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=2,
                            lifespan="off")
    server = _server_class()(config)
    holder["server"] = server
    print(f"Mission Control: {dashboard_url(opts.host, port, token)}", flush=True)
    print(f"  home {home.root}; API docs at http://{opts.host}:{port}/docs; Ctrl-C to stop", flush=True)
    server.run(sockets=[sock])
    sys.stdout.flush()
