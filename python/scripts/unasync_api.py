"""Generates the sync API from the async one, so the two cannot drift (issue 12).

    python scripts/unasync_api.py          # rewrite pylon_client/_sync_api.py
    python scripts/unasync_api.py --check  # exit 1 if the checked-in file differs from what this generates

`unasync` (the python-trio tool) removes `async`/`await` and renames `AsyncX` to `SyncX`; the replacements below
give the sync twins their public names. The result is formatted with ruff, as the rest of the package is.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import unasync

PACKAGE = Path(__file__).resolve().parent.parent / "pylon_client"
# (async source, generated sync file), both in the package.
PAIRS = (("_async_api.py", "_sync_api.py"),)
REPLACEMENTS = {
    "AsyncOpenAccessApi": "OpenAccessApi",
    "AsyncIdentityApi": "IdentityApi",
    "AsyncUnstableOpenAccessApi": "UnstableOpenAccessApi",
    "AsyncUnstableIdentityApi": "UnstableIdentityApi",
    "AsyncEventStream": "EventStream",
    "AsyncStreamSource": "StreamSource",
    "async_sleep": "sync_sleep",
    # The event stream: httpx's and httpx-sse's async names, and closing.
    "aiter_sse": "iter_sse",
    "aread": "read",
    "aclose": "close",
}
HEADER = "# Generated from {source} by scripts/unasync_api.py: do not edit (edit {source} and regenerate).\n"


def generate(source: str, target: str) -> str:
    """The sync module's text, generated from the async `source` file of the package."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / source
        src.write_text((PACKAGE / source).read_text())
        rule = unasync.Rule(fromdir=source, todir=target, additional_replacements=REPLACEMENTS)
        unasync.unasync_files([str(src)], rules=[rule])
        text = HEADER.format(source=source) + (Path(tmp) / target).read_text()
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(PACKAGE / target), "-"],
        input=text,
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent,
    )
    return formatted.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report whether the checked-in files are current")
    args = parser.parse_args()
    stale = []
    for source, target in PAIRS:
        text = generate(source, target)
        path = PACKAGE / target
        if path.read_text() != text:
            if args.check:
                stale.append(target)
            else:
                path.write_text(text)
                print(f"wrote {path}")
    if stale:
        print(f"out of date: {', '.join(stale)} (run scripts/unasync_api.py)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
