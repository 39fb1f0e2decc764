"""A real nginx with deploy/nginx/pylon-cache.conf in front of two Pylon replicas on one devnet:
settled past-block answers are immutable and served from the cache, `latest` is revalidated
(ETag → 304), `recent` says its age, and the cache never serves a request Pylon would refuse."""

from __future__ import annotations

import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import engines

NEURONS = f"/api/v1/subnet/{engines.NETUID}/block/{{}}/neurons"


def fetch(
    base: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(base + path, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return (
                response.status,
                {k.lower(): v for k, v in response.headers.items()},
                response.read(),
            )
    except urllib.error.HTTPError as error:
        return (
            error.code,
            {k.lower(): v for k, v in error.headers.items()},
            error.read(),
        )


AUTH = {"Authorization": f"Bearer {engines.OPEN_TOKEN}"}


def test_past_blocks_are_cached_latest_is_revalidated(nginx_installed) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pylon-replicas-"))
    engines.write_alice_hotkey(workdir / "wallets")
    with engines.devnet() as chain:
        chain.seal(70)  # block 2 is now settled (≥ 64 behind the head)
        replicas = [engines.serve(workdir, name, chain, None) for name in ("a", "b")]
        try:
            for replica in replicas:
                replica.start()
            for replica in replicas:
                replica.wait_ready()
            upstreams = [f"127.0.0.1:{r.port}" for r in replicas]
            with engines.nginx(upstreams) as cache:
                base = f"http://127.0.0.1:{cache.port}"
                path = NEURONS.format(2)

                status, first, body = fetch(base, path, AUTH)
                assert status == 200, body
                assert first["cache-control"] == "public, max-age=31536000, immutable"
                assert first["x-cache-status"] == "MISS"
                status, second, again = fetch(base, path, AUTH)
                assert status == 200 and second["x-cache-status"] == "HIT", second
                assert again == body and second["etag"] == first["etag"]
                # Both replicas render the same bytes: one ETag whichever answered.
                for replica in replicas:
                    _, direct, _ = fetch(replica.url, path, AUTH)
                    assert direct["etag"] == first["etag"]

                # The cache never answers for Pylon's auth: no token, or another token, is refused.
                assert fetch(base, path)[0] == 401
                status, refused, _ = fetch(
                    base, path, {"Authorization": "Bearer wrong"}
                )
                assert status in (401, 403) and refused.get("x-cache-status") != "HIT"

                # A block newer than settled is revalidated like latest.
                head = engines.head_number(chain)
                _, fresh, _ = fetch(base, NEURONS.format(head - 1), AUTH)
                assert fresh["cache-control"] == "no-cache"

                # latest: never kept by the cache, revalidated with its ETag → 304.
                latest = NEURONS.format("latest")
                status, top, _ = fetch(base, latest, AUTH)
                assert status == 200 and top["cache-control"] == "no-cache"
                assert top.get("x-cache-status") != "HIT"
                status, revalidated, empty = fetch(
                    base, latest, {**AUTH, "If-None-Match": top["etag"]}
                )
                assert status == 304 and empty == b"", revalidated

                # recent: says how many blocks behind the head it is.
                status, recent, _ = fetch(base, NEURONS.format("recent"), AUTH)
                assert status == 200 and int(recent["x-pylon-age-blocks"]) >= 0
        finally:
            for replica in replicas:
                replica.stop()
