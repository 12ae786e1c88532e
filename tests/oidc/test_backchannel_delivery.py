"""Back-channel logout is queued in the logout's transaction and delivered by a worker with retries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from click.testing import CliRunner
from joserfc import jwt
from oidc_support import make_rp, signed_in_tokens
from sqlalchemy import select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from idp.cli import main
from idp.db import Database, utcnow
from idp.models import BackchannelLogout, Tenant
from idp.oidc import logout as backchannel


class RelyingPartyEndpoint:
    """A relying party's backchannel_logout_uri on loopback that can be down, slow, or failing."""

    def __init__(self) -> None:
        self.posts: list[dict[str, str]] = []
        self.status = 200
        self.delay = 0.0
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.port = self.server.port
        self.url = f"http://127.0.0.1:{self.port}/backchannel"
        self._start()

    @Request.application
    def _app(self, request: Request) -> Response:
        time.sleep(self.delay)
        self.posts.append(request.form.to_dict())
        return Response("", self.status)

    def _start(self) -> None:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def go_down(self) -> None:
        self.server.shutdown()
        self.server.server_close()  # connections are refused from now on

    def come_back(self) -> None:
        self.server = make_server("127.0.0.1", self.port, self._app, threaded=True)
        self._start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint() -> Iterator[RelyingPartyEndpoint]:
    rp = RelyingPartyEndpoint()
    yield rp
    rp.close()


def _sign_out(client, rp) -> tuple[dict, float]:  # type: ignore[no-untyped-def]
    tokens = signed_in_tokens(client, rp)
    started = time.perf_counter()
    response = client.get("/contoso/logout", query_string={"id_token_hint": tokens["id_token"]})
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and "You have signed out" in response.text
    return tokens, elapsed


def _rows(database: Database) -> list[BackchannelLogout]:
    with database.sessionmaker() as s:
        return list(s.scalars(select(BackchannelLogout)))


def test_the_rp_is_down_at_logout_comes_back_and_gets_the_token_on_retry(  # type: ignore[no-untyped-def]
    client, app, database: Database, contoso: Tenant, member: str, endpoint: RelyingPartyEndpoint
) -> None:
    keys = app.extensions["portico"].keys
    rp = make_rp(database, contoso, backchannel_logout_uri=endpoint.url)
    endpoint.go_down()
    tokens, _ = _sign_out(client, rp)
    [queued] = _rows(database)
    assert queued.status == "pending"

    t0 = utcnow()
    first = backchannel.deliver_due(database, keys, now=t0)
    assert first.retrying == [queued.id]
    [row] = _rows(database)
    assert row.status == "pending" and row.attempts == 1 and "ConnectionError" in (row.last_error or "")
    assert row.next_attempt_at == t0 + backchannel.BACKOFF_BASE

    endpoint.come_back()
    assert backchannel.deliver_due(database, keys, now=t0 + timedelta(seconds=5)).claimed == 0  # backing off
    second = backchannel.deliver_due(database, keys, now=t0 + backchannel.BACKOFF_BASE)
    assert second.sent == [queued.id] and len(endpoint.posts) == 1
    [row] = _rows(database)
    assert row.status == "sent" and row.attempts == 2 and row.last_error is None and row.sent_at is not None

    id_token = jwt.decode(tokens["id_token"], keys.verification_keys()).claims
    logout = jwt.decode(endpoint.posts[0]["logout_token"], keys.verification_keys())
    assert logout.header["typ"] == "logout+jwt"
    claims = logout.claims
    assert claims["sid"] == id_token["sid"] and claims["sub"] == id_token["sub"] and claims["aud"] == rp.client_id
    assert claims["iss"] == id_token["iss"] and backchannel.BACKCHANNEL_EVENT in claims["events"]
    assert "nonce" not in claims and claims["exp"] > time.time()  # signed at delivery, not at logout
    assert backchannel.deliver_due(database, keys).claimed == 0  # delivered once


def test_the_logout_page_does_not_wait_for_a_slow_rp(  # type: ignore[no-untyped-def]
    client, database: Database, contoso: Tenant, member: str, endpoint: RelyingPartyEndpoint
) -> None:
    endpoint.delay = 4.0  # longer than the old synchronous 3 s timeout
    rp = make_rp(database, contoso, backchannel_logout_uri=endpoint.url)
    _tokens, elapsed = _sign_out(client, rp)
    assert elapsed < 1.0
    assert endpoint.posts == [] and [r.status for r in _rows(database)] == ["pending"]


def test_5xx_is_retried_until_the_attempts_run_out_and_4xx_is_final(  # type: ignore[no-untyped-def]
    client, app, database: Database, contoso: Tenant, member: str, endpoint: RelyingPartyEndpoint
) -> None:
    keys = app.extensions["portico"].keys
    rp = make_rp(database, contoso, backchannel_logout_uri=endpoint.url)
    endpoint.status = 503
    _sign_out(client, rp)
    when = utcnow()
    for attempt in range(1, backchannel.MAX_ATTEMPTS + 1):
        report = backchannel.deliver_due(database, keys, now=when)
        assert report.claimed == 1
        when += backchannel.backoff(attempt)
    [row] = _rows(database)
    assert row.status == "failed" and row.attempts == backchannel.MAX_ATTEMPTS
    assert row.last_error == "RelyingPartyRefused: the relying party answered HTTP 503"
    assert backchannel.deliver_due(database, keys, now=when + timedelta(days=1)).claimed == 0
    # the whole retry schedule is bounded (about 40 minutes)
    total = sum((backchannel.backoff(n) for n in range(1, backchannel.MAX_ATTEMPTS)), timedelta())
    assert timedelta(minutes=20) < total < timedelta(hours=1)

    endpoint.status = 400  # the RP refuses the token: no retry
    _sign_out(client, rp)
    report = backchannel.deliver_due(database, keys, now=when + timedelta(days=1))
    assert len(report.failed) == 1 and report.retrying == []


def test_only_applications_with_a_backchannel_uri_are_queued_and_the_cli_delivers(  # type: ignore[no-untyped-def]
    client, database: Database, contoso: Tenant, member: str, endpoint: RelyingPartyEndpoint, cli_env
) -> None:
    rp = make_rp(database, contoso, backchannel_logout_uri=endpoint.url)
    quiet = make_rp(database, contoso)
    signed_in_tokens(client, quiet)  # the same session signs in to an app without a back-channel URI
    _sign_out(client, rp)
    assert len(_rows(database)) == 1
    result = CliRunner().invoke(main, ["logout", "deliver", "--once", "--json"])
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["sent"]) == 1 and len(endpoint.posts) == 1


def test_revoke_sessions_queues_the_logout_tokens(  # type: ignore[no-untyped-def]
    client, app, database: Database, contoso: Tenant, member: str, endpoint: RelyingPartyEndpoint, cli_env
) -> None:
    rp = make_rp(database, contoso, backchannel_logout_uri=endpoint.url)
    signed_in_tokens(client, rp)
    result = CliRunner().invoke(main, ["oidc", "revoke-sessions", "--tenant", "contoso", "--user",
                                       "ada@contoso.com", "--json"])
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.output)["backchannel"].values()) == [[rp.client_id]]
    assert endpoint.posts == []
    assert backchannel.deliver_due(database, app.extensions["portico"].keys).sent and len(endpoint.posts) == 1


def test_purge_removes_settled_deliveries_after_a_week(  # type: ignore[no-untyped-def]
    client, app, database: Database, contoso: Tenant, member: str, endpoint: RelyingPartyEndpoint
) -> None:
    from idp.oidc.store import DELIVERY_RETENTION, purge_expired

    rp = make_rp(database, contoso, backchannel_logout_uri=endpoint.url)
    _sign_out(client, rp)
    backchannel.deliver_due(database, app.extensions["portico"].keys)
    _sign_out(client, rp)  # a second one still pending
    with database.transaction() as s:
        assert purge_expired(s, now=utcnow() + DELIVERY_RETENTION * 2)["backchannel_logouts"] == 1
    assert [r.status for r in _rows(database)] == ["pending"]
