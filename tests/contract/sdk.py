"""What the Bittensor SDK's stack decodes from a chain, read through `tests/sdk_dump.py` in the SDK's own venv (the
published client and our client share an import name, so the two never share a venv)."""

import json
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SDK_PYTHON = REPO / ".venv" / "bin" / "python"


def sdk_dump(chain_url: str, *args: object) -> Any:
    out = subprocess.run(
        [
            str(SDK_PYTHON),
            str(REPO / "tests" / "sdk_dump.py"),
            chain_url,
            *map(str, args),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return json.loads(out)
