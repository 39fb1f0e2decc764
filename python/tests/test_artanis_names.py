"""Every public name of the published client's `pylon_client.artanis`, `pylon_client.artanis.v1` and
`pylon_client.artanis.unstable` (read from the published package itself) imports from ours."""

from __future__ import annotations

import importlib
import json
import subprocess

import pytest

from .test_reference_parity import reference_python

MODULES = ("pylon_client.artanis", "pylon_client.artanis.v1", "pylon_client.artanis.unstable")


def published_names() -> dict[str, list[str]]:
    script = (
        "import importlib, json, warnings; warnings.simplefilter('ignore');"
        f"print(json.dumps({{m: sorted(n for n in dir(importlib.import_module(m)) if not n.startswith('_'))"
        f" for m in {MODULES!r}}}))"
    )
    out = subprocess.run(
        [reference_python(), "-I", "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    names: dict[str, list[str]] = json.loads(out.stdout)
    return names


@pytest.mark.parametrize("module", MODULES)
def test_the_published_names_import_from_ours(module: str) -> None:
    theirs = published_names()[module]
    ours = importlib.import_module(module)
    # Their modules also show the submodules they import from (e.g. `warnings`): only names of the API count.
    missing = [name for name in theirs if not hasattr(ours, name) and name not in {"warnings", "v1", "unstable"}]
    assert missing == []
    assert len(theirs) > 20
