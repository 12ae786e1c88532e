"""Benchmark the OpenID provider over real HTTP against ``portico serve`` with production settings.

    python -m bench [--duration 5] [--clients 4] [--workers 2] [--threads 2] [--database-url URL]

It creates a throw-away instance (SQLite by default, or ``--database-url`` for PostgreSQL), seeds one tenant,
a member and four applications, starts ``portico serve`` (Granian) with ``PORTICO_ENV=production`` and drives
it from ``--clients`` client processes, then prints tokens/s and p50/p99 latency for:

* ``client_credentials``: ``POST /{tenant}/token`` with HTTP Basic client authentication (RS256 access tokens,
  the default);
* ``client_credentials_es256``: the same for an application whose access tokens are ES256
  (``--access-token-alg ES256``): RSA-2048 signing alone costs ~0.8 ms of CPU per token here;
* ``refresh_token``: rotating refreshes, each a new refresh token (``refresh_token_es256``: ES256 access tokens);
* ``login``: a full authorization-code login (authorize -> sign-in page -> password -> code -> token with PKCE).

Production refuses an http or loopback ``PORTICO_BASE_URL``, so the bench sets the issuer base to
``https://portico.bench.invalid`` (the reserved ``.invalid`` TLD: never resolved or dereferenced) and sends the
requests to the loopback port directly, as a TLS-terminating proxy would. The server sets its cookies
``Secure``; the bench's client forwards them over the loopback hop as that proxy's browser would over TLS.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from bench.load import EMAIL, PASSWORD, REDIRECT_URI, TENANT, Target, login, run_scenario, warm_up

BASE_URL = "https://portico.bench.invalid"


# -- setup ----------------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _environment(workdir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}
    env.update({
        "PORTICO_ENV": "production",
        "PORTICO_BASE_URL": BASE_URL,
        "PORTICO_INSTANCE_DIR": str(workdir / "instance"),
        "PORTICO_KEYS_DIR": str(workdir / "keys"),
        "PORTICO_SECRET_KEY": secrets.token_urlsafe(32),
        "PORTICO_DATABASE_URL": database_url or f"sqlite:///{workdir / 'instance' / 'portico.db'}",
    })
    return env


def _seed(env: dict[str, str]) -> dict[str, tuple[str, str]]:
    """A tenant, a member and the bench's applications: name -> (client_id, client_secret)."""
    from idp import migrate
    from idp.config import load_settings
    from idp.db import Database
    from idp.directory import applications, tenants, users
    from idp.keys import KeyStore

    settings = load_settings(env)
    database = Database(settings.database_url)
    migrate.upgrade(database.engine)
    KeyStore(settings.keys_dir).ensure()
    with database.transaction() as s:
        tenant = tenants.find_tenant(s, TENANT) or tenants.create_tenant(
            s, TENANT, "Bench", domain_suffix=settings.tenant_domain_suffix, verified_domains=["bench.example"])
        if users.find_user_by_upn(s, tenant, EMAIL) is None:
            users.create_member(s, tenant, EMAIL, password=PASSWORD, display_name="Bench Member")
        service = {"redirect_uris": [], "grant_types": ["client_credentials"], "scopes": ["scim.read", "scim.write"]}
        web = {"redirect_uris": [REDIRECT_URI], "grant_types": ["authorization_code", "refresh_token"],
               "scopes": ["openid", "profile", "email", "offline_access"], "first_party": True}
        result = {}
        for key, name, kind, alg in (("cc", "Bench SCIM client", service, "RS256"),
                                     ("cc_es256", "Bench SCIM client (ES256)", service, "ES256"),
                                     ("web", "Bench web app", web, "RS256"),
                                     ("web_es256", "Bench web app (ES256)", web, "ES256")):
            created = applications.create_application(s, tenant, name=name, access_token_signed_response_alg=alg,
                                                      production=True, **kind)
            result[key] = (created.application.client_id, created.client_secret or "")
    database.dispose()
    return result


def _start_server(env: dict[str, str], workdir: Path, port: int, workers: int, threads: int) -> subprocess.Popen:
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 - closed with the process
    process = subprocess.Popen(
        [sys.executable, "-c", "from idp.cli import main; main()", "serve", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers), "--threads", str(threads)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"portico serve exited; see {workdir / 'server.log'}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("portico serve did not become ready within 30 s")


def primitive_costs(env: dict[str, str], target: Target) -> dict[str, float]:
    """Single-core costs measured in this process (milliseconds each): the expensive primitives, and whole
    token requests through the Flask app without HTTP, the server or a separate client."""
    from idp import create_app
    from idp.config import load_settings
    from idp.directory.passwords import hash_password, verify_password
    from idp.keys import KeyStore
    from idp.tokens import issue_access_token

    settings = load_settings(env)
    keys = KeyStore(settings.keys_dir)
    costs: dict[str, float] = {}
    started = time.perf_counter()
    for _ in range(200):
        issue_access_token(keys, issuer=BASE_URL, tenant_id="t", subject="s", client_id="c", audience="a",
                           scopes=["scim.read"])
    costs["RS256 access-token signing"] = (time.perf_counter() - started) / 200 * 1000
    hashed = hash_password(PASSWORD)
    started = time.perf_counter()
    for _ in range(5):
        verify_password(hashed, PASSWORD)
    costs["argon2id password verification"] = (time.perf_counter() - started) / 5 * 1000

    app = create_app(settings)
    client = app.test_client()
    local = {"base_url": "http://127.0.0.1"}
    started = time.perf_counter()
    for _ in range(200):
        client.post(f"/{TENANT}/token", data={"grant_type": "client_credentials", "scope": "scim.read"},
                    auth=target.cc_client, **local)
    costs["client_credentials request, in-process"] = (time.perf_counter() - started) / 200 * 1000
    session = requests.Session()
    refresh_token = login(session, target)["refresh_token"]
    started = time.perf_counter()
    for _ in range(100):
        response = client.post(f"/{TENANT}/token", data={"grant_type": "refresh_token",
                                                         "refresh_token": refresh_token},
                               auth=target.web_client, **local)
        refresh_token = response.json["refresh_token"]
    costs["refresh_token request, in-process"] = (time.perf_counter() - started) / 100 * 1000
    app.extensions["portico"].database.dispose()
    return costs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per scenario and client")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client processes")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--threads", type=int, default=2,
                        help="Python threads per server worker (portico serve's default)")
    parser.add_argument("--database-url", default=None, help="PostgreSQL URL (default: a fresh SQLite file)")
    parser.add_argument("--scenarios", default="client_credentials,client_credentials_es256,refresh_token,"
                                                "refresh_token_es256,login")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="portico-bench-"))
    (workdir / "instance").mkdir()
    env = _environment(workdir, args.database_url)
    clients = _seed(env)
    port = _free_port()
    server = _start_server(env, workdir, port, args.workers, args.threads)
    target = Target(url=f"http://127.0.0.1:{port}", cc_client=clients["cc"], web_client=clients["web"],
                    cc_es256_client=clients["cc_es256"], web_es256_client=clients["web_es256"])
    try:
        warm_up(target)
        rows = [run_scenario(s, target, args.clients, args.duration, server.pid) for s in args.scenarios.split(",")]
        costs = primitive_costs(env, target)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\nPortico OIDC benchmark: portico serve (Granian {args.workers} workers x {args.threads} threads, "
          f"PORTICO_ENV=production, {database}), {args.clients} client processes, {args.duration:g} s each, "
          f"{os.cpu_count()} CPUs shared by server and clients\n")
    print(f"{'scenario':<26}{'ok':>8}{'errors':>8}{'per second':>12}{'p50 ms':>10}{'p99 ms':>10}"
          f"{'server CPU ms':>15}{'client CPU ms':>15}")
    for row in rows:
        print(f"{row['scenario']:<26}{row['count']:>8}{row['errors']:>8}{row['rate']:>12.1f}"
              f"{row['p50']:>10.1f}{row['p99']:>10.1f}{row['server_cpu_ms']:>15.2f}{row['client_cpu_ms']:>15.2f}")
    print("\nserver/client CPU ms: CPU time per request of the server's processes and of the load generator; "
          "1000 / server CPU ms\nis the rate the server would reach on one core of its own.")
    print("\nwhere the time goes (single core, measured in the bench process):")
    for name, ms in costs.items():
        print(f"  {name:<42}{ms:8.2f} ms")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0 if all(row["count"] for row in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
