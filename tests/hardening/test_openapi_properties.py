"""Property tests of the HTTP surface generated from our own OpenAPI document (schemathesis).

For every documented operation, schemathesis generates valid and invalid path parameters (and
extra headers/queries) and checks every answer: never a 5xx (the devnet is healthy, so not even
502/503/504), the status code and content type documented for the operation, and a body matching
the documented schema. Requests carry the right token for the route's tier; schemathesis also
re-sends some without it (the route must refuse them).

Bounded for CI: `PYLON_SCHEMATHESIS_MAX_EXAMPLES` examples per operation (default 40), which keeps
the whole run well under a minute against `pylon dev`.

Write operations (PUT/POST) are left out: they submit transactions and have their own tests.
"""

import os
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from pylon_dev import PylonDev
from schemathesis.generation.case import Case
from ss58 import ss58_encode

MAX_EXAMPLES = int(os.environ.get("PYLON_SCHEMATHESIS_MAX_EXAMPLES", "40"))

# Valid-looking hotkeys: real ss58 addresses of random keys, plus the dev identity's own //Alice,
# which has a certificate and a commitment on the devnet.
ALICE = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
schemathesis.openapi.format(
    "ss58",
    st.one_of(st.just(ALICE), st.binary(min_size=32, max_size=32).map(ss58_encode)),
)


@pytest.fixture(scope="session")
def api_schema(pylon: PylonDev) -> Any:
    schema = schemathesis.openapi.from_url(f"{pylon.url}/schema/openapi.json")
    schema.config.generation.update(max_examples=MAX_EXAMPLES, database="none")

    @schema.hook
    def map_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
        # Steer half of the generated numbers onto what exists (subnets 0..4, the first blocks,
        # the dev identity) so that answers with real data are checked too, not only 404s.
        # Non-integers (negative cases) pass through untouched.
        if not path_parameters:
            return path_parameters
        parameters = dict(path_parameters)

        def within(name: str, top: int) -> bool:
            value = parameters.get(name)
            return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= top

        if within("netuid", 65535) and parameters["netuid"] % 2 == 0:
            parameters["netuid"] %= 5
        if within("block_number", 2**32 - 1) and parameters["block_number"] % 2 == 0:
            parameters["block_number"] %= 4
        name = parameters.get("name")
        if isinstance(name, str) and len(name) % 2 == 0 and within("netuid", 65535):
            parameters["name"] = pylon.identity_name
            parameters["netuid"] = pylon.identity_netuid
        return parameters

    return schema


schema = schemathesis.pytest.from_fixture("api_schema").exclude(method=["PUT", "POST", "PATCH", "DELETE"])


def token_for(case: Case, pylon: PylonDev) -> str:
    if case.path.startswith("/api/v1/identity/"):
        return pylon.identity_token
    return pylon.open_access_token


@schema.parametrize()
@hypothesis.settings(
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    print_blob=True,
)
def test_every_answer_is_documented_and_never_a_server_error(case: Case, pylon: PylonDev) -> None:
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {token_for(case, pylon)}"},
        timeout=30,
    )
    # A healthy devnet: not even gateway errors (the checks above already refuse other 5xx).
    assert response.status_code < 500, response.text
