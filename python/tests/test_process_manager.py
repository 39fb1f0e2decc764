"""`PylonDockerManager`'s own logic with a stand-in for the Docker SDK (no daemon here): the settings and port it
hands to Docker, the wait for /health, and that it stops and removes the container on exit and on a failed start.
(`tests/e2e/test_process_manager.py` runs `PylonBinaryManager` with the real binary.)"""

from __future__ import annotations

import asyncio
import http.server
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from pylon_client.artanis import PylonDockerManager


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeContainer:
    short_id = "abc123"

    def __init__(self, server: http.server.HTTPServer | None) -> None:
        self.server = server
        self.calls: list[str] = []

    def stop(self) -> None:
        self.calls.append("stop")
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def remove(self) -> None:
        self.calls.append("remove")


class FakeDocker:
    """`docker.from_env()` as far as the manager uses it: `containers.run(...)` starting a /health server."""

    def __init__(self, healthy: bool) -> None:
        self.healthy = healthy
        self.runs: list[tuple[str, dict[str, Any]]] = []
        self.container: FakeContainer | None = None
        self.containers = self

    def run(self, image: str, **kwargs: Any) -> FakeContainer:
        self.runs.append((image, kwargs))
        server = None
        if self.healthy:
            [host_port] = kwargs["ports"].values()
            server = http.server.HTTPServer(("127.0.0.1", host_port), Health)
            threading.Thread(target=server.serve_forever, daemon=True).start()
        self.container = FakeContainer(server)
        return self.container


def test_runs_the_image_with_the_settings_and_cleans_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text('PYLON_IDENTITIES=["sn1"]\nPYLON_OPEN_ACCESS_TOKEN="from-file"\nOTHER=ignored\n')
    monkeypatch.setenv("PYLON_BITTENSOR_NETWORK", "finney")
    monkeypatch.setenv("PYLON_CLIENT_ADDRESS", "not-a-service-setting")
    port = free_port()
    manager = PylonDockerManager(port, env={"PYLON_OPEN_ACCESS_TOKEN": "override"}, env_file=env_file)
    fake = FakeDocker(healthy=True)
    manager._docker = fake

    async def scenario() -> None:
        async with manager:
            assert manager.container is fake.container

    asyncio.run(scenario())
    [(image, kwargs)] = fake.runs
    assert image == "pylon"
    assert kwargs["ports"] == {"8000/tcp": port}
    assert kwargs["environment"]["PYLON_IDENTITIES"] == '["sn1"]'
    assert kwargs["environment"]["PYLON_OPEN_ACCESS_TOKEN"] == "override"
    assert kwargs["environment"]["PYLON_BITTENSOR_NETWORK"] == "finney"
    assert "OTHER" not in kwargs["environment"]
    assert "PYLON_CLIENT_ADDRESS" not in kwargs["environment"]
    assert fake.container is not None
    assert fake.container.calls == ["stop", "remove"]
    assert manager.container is None


def test_a_service_that_never_gets_healthy_is_stopped_and_removed(tmp_path: Path) -> None:
    manager = PylonDockerManager(free_port(), image="pylon:test", env_file=tmp_path / "none", startup_timeout=1.0)
    fake = FakeDocker(healthy=False)
    manager._docker = fake

    async def scenario() -> None:
        async with manager:
            pass

    with pytest.raises(RuntimeError, match="not healthy"):
        asyncio.run(scenario())
    assert fake.runs[0][0] == "pylon:test"
    assert fake.container is not None
    assert fake.container.calls == ["stop", "remove"]
