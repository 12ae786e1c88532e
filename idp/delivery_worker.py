"""The queue workers ``portico serve`` runs beside its web workers: the mail outbox and back-channel logout
tokens (``--no-deliver`` leaves them to separately run ``portico mail deliver`` / ``portico logout deliver``).

They run in a process of their own so a slow SMTP server or relying party never holds a web worker; rows are
claimed with a conditional UPDATE, so extra workers elsewhere are safe (:mod:`idp.outbox_queue`)."""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

from idp.config import Settings
from idp.db import Database
from idp.keys import KeyStore

log = logging.getLogger(__name__)
RESTART_DELAY = 5.0  # seconds before a queue loop that crashed (database down, ...) starts again


def _keep_running(name: str, loop: Callable[[], None], stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            loop()
        except Exception:  # one bad round must not end delivery for the life of the server
            log.exception("%s delivery failed; retrying in %.0f s", name, RESTART_DELAY)
            stop.wait(RESTART_DELAY)


def deliver_all(settings: Settings, stop: threading.Event, *, mail_interval: float = 5.0,
                logout_interval: float = 2.0) -> None:
    """Deliver mail and logout tokens until ``stop`` is set (each queue in its own thread)."""
    from idp.mail import deliver_forever as deliver_mail
    from idp.mail import transport_for
    from idp.oidc.logout import deliver_forever as deliver_logouts

    database = Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
    keys = KeyStore(settings.keys_dir)
    transport = transport_for(settings.smtp)
    def report(round_report: Any) -> None:
        log.info("%s", round_report.summary())

    loops = {
        "mail": lambda: deliver_mail(database, transport, mail_from=settings.smtp.mail_from, interval=mail_interval,
                                     on_report=report, should_stop=stop.is_set),
        "back-channel logout": lambda: deliver_logouts(database, keys, interval=logout_interval, on_report=report,
                                                       should_stop=stop.is_set),
    }
    threads = [threading.Thread(target=_keep_running, args=(name, loop, stop), name=f"deliver-{name}", daemon=True)
               for name, loop in loops.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.5)
    database.dispose()


def _process_main(settings: Settings) -> None:
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] [delivery] %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    deliver_all(settings, stop)


def start_delivery_process(settings: Settings) -> BaseProcess:
    process = multiprocessing.get_context("spawn").Process(target=_process_main, args=(settings,),
                                                           name="portico-delivery", daemon=True)
    process.start()
    return process


def stop_delivery_process(process: BaseProcess, timeout: float = 10.0) -> None:
    if process.is_alive():
        process.terminate()  # SIGTERM: the loops finish their round and stop
        deadline = time.monotonic() + timeout
        while process.is_alive() and time.monotonic() < deadline:
            process.join(0.2)
    if process.is_alive():
        process.kill()
