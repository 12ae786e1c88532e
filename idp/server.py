"""Running the app under Granian (``portico serve``).

Granian's HTTP/1.1 and HTTP/2 stack is Rust (hyper); only the WSGI call runs in Python. Measured with the
same Flask view on this 2-core machine, it serves 2.5x the requests per second of gunicorn's gthread worker,
whose pure-Python HTTP handling cost more than most of Portico's endpoints themselves (see ``bench/``)."""

from __future__ import annotations

from granian import Granian
from granian.constants import Interfaces
from granian.log import LogLevels

APP_FACTORY = "idp:create_app"


def run_server(*, host: str, port: int, workers: int, threads: int, access_log: bool = True) -> None:
    """Serve ``create_app()`` (called once in each worker process) until SIGINT/SIGTERM."""
    Granian(
        APP_FACTORY,
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=threads,
        log_level=LogLevels.info,
        log_access=access_log,
        respawn_failed_workers=True,
    ).serve()
