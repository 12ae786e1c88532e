"""`make run` from a fresh copy of the repository serves the demo, and running it twice is safe."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_copy(target: Path) -> Path:
    """The files a clone would have: tracked and not-ignored ones, without .venv, instance or keys."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if not source.is_file():
            continue
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(source.read_bytes())
        destination.chmod(source.stat().st_mode)
    return target


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PORTICO_", "VIRTUAL_ENV", "MAKE"))}


def start_and_fetch_jwks(clone: Path, port: int, log: Path) -> tuple[dict, str]:
    with open(log, "wb") as out:
        proc = subprocess.Popen(["make", "run", "HOST=127.0.0.1", f"PORT={port}"], cwd=clone, env=clean_env(),
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 420
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"make run exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                response = requests.get(f"http://127.0.0.1:{port}/contoso/.well-known/jwks.json", timeout=2)
                if response.status_code == 200:
                    return response.json(), log.read_text()
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or a worker still booting
                pass
            time.sleep(0.5)
        pytest.fail(f"make run did not serve in time:\n{log.read_text()[-3000:]}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    raise AssertionError("unreachable")


@pytest.mark.slow
def test_make_run_from_a_fresh_copy_twice(tmp_path: Path) -> None:
    clone = fresh_copy(tmp_path / "clone")
    assert not (clone / ".venv").exists() and not (clone / "keys" / "keys.json").exists()

    jwks, output = start_and_fetch_jwks(clone, free_port(), tmp_path / "first.log")
    assert {k["alg"] for k in jwks["keys"]} == {"RS256", "ES256"}
    assert all("d" not in k for k in jwks["keys"])
    on_disk = {p.stem for p in (clone / "keys").glob("*.pem")}
    assert {k["kid"] for k in jwks["keys"]} == on_disk
    passwords = re.findall(r"admin (admin@\S+) password (\S+)", output)
    assert [email for email, _ in passwords] == ["admin@contoso.portico.example", "admin@fabrikam.portico.example"]
    assert "client_id" in output

    jwks_again, output_again = start_and_fetch_jwks(clone, free_port(), tmp_path / "second.log")
    assert jwks_again == jwks  # same keys: nothing regenerated
    assert re.findall(r"admin (admin@\S+) password (\S+)", output_again) == passwords
