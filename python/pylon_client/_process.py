"""Running a Pylon service for tests and local development, as an async context manager: our Docker image
(`PylonDockerManager`, the published client's name) or the `pylon` binary (`PylonBinaryManager`).

    async with PylonDockerManager(port=8000):          # PYLON_* settings from the environment and .env
        async with AsyncPylonClient(AsyncConfig(address="http://127.0.0.1:8000", ...)) as client: ...

    async with PylonBinaryManager(port=0, args=("dev",)) as pylon:   # `pylon dev`: a local chain + the service
        print(pylon.url, pylon.values["PYLON_OPEN_ACCESS_TOKEN"])

Both start the service, wait until `GET /health` answers 200, and stop (and remove) it on exit, also when the
start fails. The Docker manager needs the `docker` package (`pip install bittensor-pylon-client[docker]`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx

from ._exceptions import PylonMisconfigured

logger = logging.getLogger("pylon_client")

DEFAULT_IMAGE = "pylon"
SERVICE_PORT = 8000  # where the image's service listens inside the container


def pylon_settings(env_file: str | Path | None = None, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """The `PYLON_*` settings to hand to the service: the `.env` file's (`PYLON_ENV_FILE`, default `./.env`), then
    the process environment's, then `overrides`."""
    settings: dict[str, str] = {}
    path = Path(env_file or os.environ.get("PYLON_ENV_FILE", ".env"))
    if path.is_file():
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, _, value = line.removeprefix("export ").partition("=")
            key, value = key.strip(), value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            if key.startswith("PYLON_"):
                settings[key] = value
    settings.update(
        {k: v for k, v in os.environ.items() if k.startswith("PYLON_") and not k.startswith("PYLON_CLIENT_")}
    )
    settings.update(overrides or {})
    return settings


def _not_a_service_setting(name: str) -> bool:
    # The client's own settings and the test harness's variables share the prefix.
    return name.startswith(("PYLON_CLIENT_", "PYLON_TEST_")) or name in ("PYLON_BIN", "PYLON_REFERENCE_PYTHON")


async def wait_until_healthy(url: str, timeout: float, alive: Any = None) -> None:  # noqa: ASYNC109
    """Polls `{url}/health` until it answers 200; `RuntimeError` after `timeout` seconds or when `alive()` says the
    process is gone."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(timeout=2.0) as http:
        while True:
            try:
                if (await http.get(f"{url}/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if alive is not None and not alive():
                raise RuntimeError("the Pylon service exited before it became healthy")
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"the Pylon service at {url} was not healthy within {timeout} s")
            await asyncio.sleep(0.25)


class PylonDockerManager:
    """Runs the Pylon Docker image (`image`, default `PYLON_DOCKER_IMAGE_NAME` or `pylon`) with the `PYLON_*`
    settings of `pylon_settings()` plus `env`, publishing the service on `port` of this host."""

    def __init__(
        self,
        port: int,
        *,
        image: str | None = None,
        env: Mapping[str, str] | None = None,
        env_file: str | Path | None = None,
        volumes: Mapping[str, Mapping[str, str]] | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.port = port
        self.settings = pylon_settings(env_file, env)
        self.image = image or self.settings.get("PYLON_DOCKER_IMAGE_NAME", DEFAULT_IMAGE)
        self.volumes = dict(volumes or {})
        self.startup_timeout = startup_timeout
        self.container: Any = None
        self._docker: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def docker_client(self) -> Any:
        if self._docker is None:
            try:
                import docker  # type: ignore[import-untyped]  # an optional dependency
            except ImportError as e:
                raise PylonMisconfigured(
                    "PylonDockerManager needs the docker package: pip install 'bittensor-pylon-client[docker]'"
                ) from e
            self._docker = docker.from_env()
        return self._docker

    async def __aenter__(self) -> Self:
        logger.info("Starting the Pylon container %s on port %d", self.image, self.port)
        try:
            self.container = await asyncio.to_thread(
                self.docker_client.containers.run,
                self.image,
                detach=True,
                ports={f"{SERVICE_PORT}/tcp": self.port},
                environment=self.settings,
                volumes=self.volumes,
            )
            await wait_until_healthy(self.url, self.startup_timeout)
        except BaseException:
            await self.stop_service()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop_service()

    async def stop_service(self) -> None:
        container, self.container = self.container, None
        if container is None:
            return
        try:
            await asyncio.to_thread(container.stop)
            await asyncio.to_thread(container.remove)
        except Exception:
            logger.exception("Could not stop or remove the Pylon container %s", getattr(container, "short_id", "?"))


class PylonBinaryManager:
    """Runs the `pylon` binary (`binary`, default `PYLON_BIN` or `pylon` on the PATH) with `args` (default
    `serve`), the `PYLON_*` settings of `pylon_settings()` plus `env`, and `PYLON_PORT=port` (for `pylon dev`,
    pass `args=("dev",)`: it gets `--port` instead). With `port=0` the binary picks a free port; `pylon dev`
    prints it, and the `KEY=value` lines it prints land in `values`."""

    def __init__(
        self,
        port: int = 8000,
        *,
        binary: str | Path | None = None,
        args: Sequence[str] = ("serve",),
        env: Mapping[str, str] | None = None,
        env_file: str | Path | None = None,
        startup_timeout: float = 60.0,
    ) -> None:
        self.port = port
        self.binary = str(binary or os.environ.get("PYLON_BIN", "pylon"))
        self.args = list(args)
        self.settings = pylon_settings(env_file, env)
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[str] | None = None
        self.values: dict[str, str] = {}

    @property
    def url(self) -> str:
        return self.values.get("PYLON_DEV_URL") or f"http://127.0.0.1:{self.port}"

    def _command(self) -> list[str]:
        if self.args and self.args[0] == "dev":
            return [self.binary, *self.args, "--port", str(self.port)]
        return [self.binary, *self.args]

    async def __aenter__(self) -> Self:
        environment = {**os.environ, **self.settings}
        if not (self.args and self.args[0] == "dev"):
            environment["PYLON_PORT"] = str(self.port)
        logger.info("Starting %s", " ".join(self._command()))
        # Popen starts the process and returns; the process outlives this call, so an asyncio subprocess (bound to
        # this loop) would be the wrong tool.
        self.process = subprocess.Popen(  # noqa: ASYNC220
            self._command(), env=environment, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        try:
            if self.args and self.args[0] == "dev":
                await asyncio.wait_for(asyncio.to_thread(self._read_dev_values), self.startup_timeout)
            await wait_until_healthy(
                self.url, self.startup_timeout, alive=lambda: self.process is not None and self.process.poll() is None
            )
        except BaseException:
            await self.stop_service()
            raise
        return self

    def _read_dev_values(self) -> None:
        # `pylon dev` prints KEY=value lines, then a blank line, before anything else.
        assert self.process is not None
        assert self.process.stdout is not None
        for line in self.process.stdout:
            line = line.strip()
            if not line:
                break
            key, _, value = line.partition("=")
            self.values[key] = value
        if "PYLON_DEV_URL" not in self.values:
            raise RuntimeError(f"pylon dev printed no PYLON_DEV_URL (got {sorted(self.values)})")

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop_service()

    async def stop_service(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)
