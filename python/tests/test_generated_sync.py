"""The sync API is generated from the async one (scripts/unasync_api.py); the checked-in file must be exactly
what the generator writes, so the two cannot drift."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "unasync_api.py"


def test_regenerating_the_sync_api_changes_nothing() -> None:
    spec = importlib.util.spec_from_file_location("unasync_api", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for source, target in module.PAIRS:
        generated = module.generate(source, target)
        checked_in = (module.PACKAGE / target).read_text()
        assert generated == checked_in, f"{target} is stale: run `python scripts/unasync_api.py`"
