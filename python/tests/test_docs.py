"""The Python examples of docs/CLIENT.md are valid code, and the mock example passes as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "CLIENT.md"


def examples() -> list[str]:
    if not DOC.is_file():
        pytest.skip("docs/CLIENT.md is not next to this package (installed from an sdist?)")
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_every_example_compiles() -> None:
    blocks = examples()
    assert len(blocks) >= 8
    for number, block in enumerate(blocks):
        compile(block, f"CLIENT.md example {number}", "exec")


def test_the_mock_example_passes() -> None:
    [block] = [b for b in examples() if "def test_weights_follow_incentive" in b]
    namespace: dict[str, object] = {}
    exec(compile(block, "CLIENT.md mock example", "exec"), namespace)
    namespace["test_weights_follow_incentive"]()  # type: ignore[operator]
    namespace["test_survives_a_chain_outage"]()  # type: ignore[operator]
