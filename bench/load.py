"""The client side of the benchmark: one process drives one scenario for a fixed time (importable, so the
``spawn`` start method of multiprocessing can run it)."""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing
import os
import re
import secrets
import socket
import statistics
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit

import requests

TENANT = "bench"
REDIRECT_URI = "https://rp.bench.invalid/callback"
PASSWORD = "bench-password-0123456789"
EMAIL = "member@bench.example"


@dataclass(frozen=True)
class Target:
    url: str  # where the server listens (loopback)
    cc_client: tuple[str, str]
    web_client: tuple[str, str]
    cc_es256_client: tuple[str, str]  # the same client_credentials app with ES256 access tokens
    web_es256_client: tuple[str, str]  # the same web app with ES256 access tokens


# -- client side ----------------------------------------------------------------------------------------
def _unsecure_cookies(session: requests.Session) -> None:
    """Forward the server's Secure cookies over the loopback hop (see the module docstring)."""
    for cookie in session.cookies:
        cookie.secure = False


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    return verifier, base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def login(session: requests.Session, target: Target, web_client: tuple[str, str] | None = None) -> dict[str, Any]:
    """One full authorization-code login with PKCE, as a browser plus relying party would do it."""
    web_client = web_client or target.web_client
    session.cookies.clear()
    issuer_path = f"{target.url}/{TENANT}"
    verifier, challenge = _pkce()
    response = session.get(f"{issuer_path}/authorize", allow_redirects=False, params={
        "response_type": "code", "client_id": web_client[0], "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email offline_access", "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8), "code_challenge": challenge, "code_challenge_method": "S256"})
    _unsecure_cookies(session)
    login_url = urljoin(target.url, response.headers["Location"])
    page = session.get(login_url)
    _unsecure_cookies(session)
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    assert csrf, "no CSRF token on the sign-in page"
    response = session.post(login_url, allow_redirects=False, data={
        "csrf_token": csrf.group(1), "request_id": parse_qs(urlsplit(login_url).query)["request"][0],
        "email": EMAIL, "password": PASSWORD})
    _unsecure_cookies(session)
    location = response.headers["Location"]
    for _hop in range(5):  # the journey's steps (policy, consent, ...) redirect back to /authorize
        if location.startswith(REDIRECT_URI):
            break
        response = session.get(urljoin(target.url, location), allow_redirects=False)
        _unsecure_cookies(session)
        location = response.headers["Location"]
    code = parse_qs(urlsplit(location).query)["code"][0]
    tokens = session.post(f"{issuer_path}/token", auth=web_client, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, "code_verifier": verifier})
    tokens.raise_for_status()
    return tokens.json()


class KeepAlive:
    """A bare keep-alive HTTP/1.1 connection on a socket, with requests encoded once up front where they repeat:
    the token scenarios use it so the load generator's own CPU stays small next to the server's (both share
    this machine's cores; ``http.client`` cost ~0.45 ms of CPU per request, this ~0.1 ms)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.sock: socket.socket | None = None
        self.buffer = b""

    @staticmethod
    def encode_form(path: str, data: dict[str, str], client: tuple[str, str]) -> bytes:
        credentials = base64.b64encode(f"{quote(client[0])}:{quote(client[1])}".encode()).decode()
        body = urlencode(data).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: portico.bench.invalid\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nAuthorization: Basic {credentials}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n")
        return head.encode() + body

    def send(self, request: bytes) -> tuple[int, bytes]:
        try:
            if self.sock is None:
                self.sock = socket.create_connection((self.host, self.port), timeout=30)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.buffer = b""
            self.sock.sendall(request)
            return self._response()
        except (OSError, ValueError):
            if self.sock is not None:
                self.sock.close()
            self.sock = None
            raise

    def _response(self) -> tuple[int, bytes]:
        assert self.sock is not None
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self.buffer += chunk
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length = next((int(line.split(b":", 1)[1]) for line in lines[1:]
                       if line[:15].lower() == b"content-length:"), None)
        if length is None:
            raise ValueError("the bench's client reads Content-Length responses only")
        while len(rest) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            rest += chunk
        self.buffer = rest[length:]
        return status, rest[:length]


def _first_refresh_token(args: tuple[str, Target]) -> str:
    """A refresh scenario's starting token (a full login: argon2id), fetched before the server's CPU is counted."""
    scenario, target = args
    web_client = target.web_es256_client if scenario.endswith("_es256") else target.web_client
    return str(login(requests.Session(), target, web_client)["refresh_token"])


def _worker(args: tuple[str, Target, float, str]) -> tuple[list[float], int, float]:
    scenario, target, duration, first_refresh_token = args
    session = requests.Session()
    connection = KeepAlive(target.url)
    token_path = f"/{TENANT}/token"
    latencies: list[float] = []
    errors = 0
    es256 = scenario.endswith("_es256")
    web_client = target.web_es256_client if es256 else target.web_client
    refreshing = scenario.startswith("refresh_token")
    refresh_token = first_refresh_token
    cc_client = target.cc_es256_client if es256 else target.cc_client
    cc_request = KeepAlive.encode_form(token_path, {"grant_type": "client_credentials", "scope": "scim.read"},
                                       cc_client)
    cpu_started = time.process_time()
    end = time.perf_counter() + duration
    while time.perf_counter() < end:
        start = time.perf_counter()
        try:
            if scenario.startswith("client_credentials"):
                status, _body = connection.send(cc_request)
                ok = status == 200
            elif refreshing:
                status, body = connection.send(KeepAlive.encode_form(
                    token_path, {"grant_type": "refresh_token", "refresh_token": refresh_token}, web_client))
                ok = status == 200
                if ok:
                    refresh_token = json.loads(body)["refresh_token"]
            else:
                ok = "id_token" in login(session, target)
        except (requests.RequestException, OSError, ValueError, AssertionError, KeyError):
            ok = False
        if ok:
            latencies.append(time.perf_counter() - start)
        else:
            errors += 1
            if refreshing:
                refresh_token = login(session, target, web_client)["refresh_token"]
    return latencies, errors, time.process_time() - cpu_started


def process_group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process in a process group (the server and its workers), from
    ``/proc`` (Linux); 0.0 where ``/proc`` is not there."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    total = 0
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the command: state ppid pgrp ... utime(11) stime(12)
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def warm_up(target: Target, requests_each: int = 200) -> None:
    """Requests before measuring, so every worker has loaded its keys, caches and lazily imported modules."""
    connection = KeepAlive(target.url)
    for client in (target.cc_client, target.cc_es256_client):
        request = KeepAlive.encode_form(f"/{TENANT}/token", {"grant_type": "client_credentials"}, client)
        for _ in range(requests_each):
            connection.send(request)


def run_scenario(scenario: str, target: Target, clients: int, duration: float, server_pgid: int) -> dict[str, Any]:
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        # start the client processes (and sign in, for refreshes) before counting the server's CPU
        tokens = (pool.map(_first_refresh_token, [(scenario, target)] * clients)
                  if scenario.startswith("refresh_token") else [""] * clients)
        server_cpu = process_group_cpu_seconds(server_pgid)
        started = time.perf_counter()
        results = pool.map(_worker, [(scenario, target, duration, token) for token in tokens])
        elapsed = time.perf_counter() - started
        server_cpu = process_group_cpu_seconds(server_pgid) - server_cpu
    latencies = sorted(x for lat, _, _ in results for x in lat)
    errors = sum(e for _, e, _ in results)
    requests_done = max(1, len(latencies) + errors)
    # throughput over the measured window (each client ran for `duration`, after its own warm-up)
    rate = len(latencies) / duration if latencies else 0.0
    return {
        "scenario": scenario, "count": len(latencies), "errors": errors, "rate": rate, "elapsed": elapsed,
        # CPU per request, server and load generator: what the rate would be on cores of its own
        "server_cpu_ms": server_cpu / requests_done * 1000,
        "client_cpu_ms": sum(c for _, _, c in results) / requests_done * 1000,
        "p50": _percentile(latencies, 50), "p99": _percentile(latencies, 99),
    }


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1] * 1000
