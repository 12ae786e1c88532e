"""Sign-in groundwork benchmarks: `python -m bench.signin` prints a table.

Measures, on a throw-away SQLite file (or PORTICO_BENCH_DATABASE_URL): email OTP send (code row + outbox mail)
and verify, outbox delivery to a loopback aiosmtpd server, and home-realm decisions.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from smtp_capture import MAIL_FROM, smtp_server  # noqa: E402

from idp import migrate  # noqa: E402
from idp.db import Database, make_engine  # noqa: E402
from idp.directory import tenants  # noqa: E402
from idp.mail import SmtpTransport, deliver_due  # noqa: E402
from idp.models import OutboxMessage  # noqa: E402
from idp.otp import OtpPolicy, RateLimit, send_code, verify_code  # noqa: E402
from idp.policy.home_realm import HomeRealmInput, Upstream, choose_home_realm  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def timed(label: str, count: int, func: Callable[[], None]) -> tuple[str, int, float]:
    start = time.perf_counter()
    func()
    return label, count, time.perf_counter() - start


def main() -> None:
    url = os.environ.get("PORTICO_BENCH_DATABASE_URL")
    tmp = tempfile.TemporaryDirectory()
    url = url or f"sqlite:///{tmp.name}/bench.db"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    database = Database(url)
    with database.transaction() as db:
        tenant = tenants.create_tenant(db, "benchco", "Bench Co", domain_suffix="portico.example")
    unlimited = OtpPolicy(ip_limits=(RateLimit(10**9, timedelta(minutes=15)),))
    n = 300
    codes: dict[str, str] = {}

    def sends() -> None:
        for i in range(n):
            with database.transaction() as db:
                sent = send_code(db, tenant, f"user{i}@partner.com", now=NOW, secret_key=SECRET,
                                 client_ip="192.0.2.1", policy=unlimited)
                row = db.get(OutboxMessage, sent.message_id)
                assert row is not None
                codes[sent.email] = next(w for w in row.text_body.split() if w.isdigit() and len(w) == 8)

    def verifies() -> None:
        for email, code in codes.items():
            with database.transaction() as db:
                assert verify_code(db, tenant, email, code, now=NOW, secret_key=SECRET, policy=unlimited).ok

    def delivery() -> None:
        with smtp_server() as (mailbox, settings):
            while deliver_due(database, SmtpTransport(settings), mail_from=MAIL_FROM, now=NOW, limit=100).claimed:
                pass
            assert len(mailbox.messages) == n

    upstreams = tuple(Upstream(id=f"p{i}", name=f"P{i}", type="oidc", identity_issuer=f"https://p{i}.example",
                               domains=(f"d{i}.example",)) for i in range(200))
    decisions = 20000

    def home_realm() -> None:
        for i in range(decisions):
            choose_home_realm(HomeRealmInput(f"a@d{i % 250}.example", upstreams))

    rows = [timed("email OTP send (code + outbox row)", n, sends), timed("email OTP verify", n, verifies),
            timed("outbox -> SMTP (aiosmtpd, loopback)", n, delivery),
            timed("home-realm decision (200 IdPs)", decisions, home_realm)]
    print(f"database: {database.engine.dialect.name}")
    print(f"{'operation':<40} {'count':>7} {'total s':>9} {'per op ms':>10} {'ops/s':>9}")
    for label, count, seconds in rows:
        print(f"{label:<40} {count:>7} {seconds:>9.2f} {1000 * seconds / count:>10.3f} {count / seconds:>9.0f}")
    database.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
