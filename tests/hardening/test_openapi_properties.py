"""Property tests of the HTTP surface generated from our own OpenAPI document (schemathesis).

For every documented operation, schemathesis generates valid and invalid path parameters (and
extra headers/queries) and checks every answer: never a 5xx (the devnet is healthy, so not even
502/503/504), the status code and content type documented for the operation, and a body matching
the documented schema. Requests carry the right token for the route's tier; schemathesis also
re-sends some without it (the route must refuse them).

Bounded for CI: `PYLON_SCHEMATHESIS_MAX_EXAMPLES` examples per `/api/v1` operation (default 30),
`PYLON_SCHEMATHESIS_UNSTABLE_EXAMPLES` per `/api/_unstable` one (default 8: the same handlers).

Write operations run in a second test with fewer examples (accepted writes wait for a block)
and without the "valid input is accepted" check, which their loosely typed bodies cannot meet.
"""

import os
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from pylon_dev import PylonDev
from schemathesis.generation.case import Case
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from ss58 import ss58_encode

MAX_EXAMPLES = int(os.environ.get("PYLON_SCHEMATHESIS_MAX_EXAMPLES", "30"))
# Accepted writes wait for inclusion in a block (a second each on `pylon dev`): fewer of them.
WRITE_EXAMPLES = int(os.environ.get("PYLON_SCHEMATHESIS_WRITE_EXAMPLES", "10"))

# Valid-looking hotkeys: real ss58 addresses of random keys, plus the dev identity's own //Alice,
# which has a certificate and a commitment on the devnet.
ALICE = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
# //Alice and //Bob: registered on the dev identity's subnet.
REGISTERED = [ALICE, "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"]
schemathesis.openapi.format(
    "ss58",
    st.one_of(st.just(ALICE), st.binary(min_size=32, max_size=32).map(ss58_encode)),
)


@pytest.fixture(scope="session")
def api_schema(pylon: PylonDev) -> Any:
    schema = schemathesis.openapi.from_url(f"{pylon.url}/schema/openapi.json")
    schema.config.generation.update(max_examples=MAX_EXAMPLES, database="none")
    return schema


WRITES = ["PUT", "POST", "PATCH", "DELETE"]
# The live event streams (`…/events`) never end on their own: a generated request would wait on
# the body forever. crates/pylon-service/tests/it/events.rs and tests/devnet/test_events.py test them.
STREAMS = r"/events$"
# `/api/_unstable` serves the same handlers as `/api/v1` (only a few render differently): its
# operations get fewer examples, enough to check their documentation and auth.
UNSTABLE = r"^/api/_unstable/"
UNSTABLE_EXAMPLES = int(os.environ.get("PYLON_SCHEMATHESIS_UNSTABLE_EXAMPLES", "8"))
every_read = schemathesis.pytest.from_fixture("api_schema").exclude(method=WRITES).exclude(path_regex=STREAMS)
reads = every_read.exclude(path_regex=UNSTABLE)
unstable_reads = every_read.include(path_regex=UNSTABLE)
writes = schemathesis.pytest.from_fixture("api_schema").include(method=WRITES)


def steer(case: Case, pylon: PylonDev) -> None:
    """Point some generated cases at what exists, so answers with real data are checked too, not
    only 404s: half of the in-range netuids and block numbers onto subnets 0..4 and the first
    blocks, half of the identity names (every write's) onto the dev identity, and two thirds of
    the weights bodies onto registered hotkeys (the document cannot say that keys are ss58). Values a
    negative case made invalid are left alone, so it stays invalid. Deterministic in the case, so
    Hypothesis can still shrink a failure."""
    parameters = case.path_parameters or {}

    def within(name: str, top: int) -> bool:
        # Some phases hand over path parameters already as text.
        value = parameters.get(name)
        if isinstance(value, str) and value.isascii() and value.isdigit():
            parameters[name] = value = int(value)
        return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= top

    if within("netuid", 65535) and parameters["netuid"] % 2 == 0:
        parameters["netuid"] %= 5
    if within("block_number", 2**32 - 1) and parameters["block_number"] % 2 == 0:
        parameters["block_number"] %= 4
    name = parameters.get("name")
    write = case.method.upper() in WRITES
    # Chain-level identity routes (`/api/_unstable/identity/{name}/block/…`) have no netuid.
    subnet = "netuid" in parameters
    if isinstance(name, str) and (write or len(name) % 2 == 0) and (not subnet or within("netuid", 65535)):
        parameters["name"] = pylon.identity_name
        if subnet:
            parameters["netuid"] = pylon.identity_netuid
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("weights"), dict) and len(body["weights"]) % 3 != 0:
        case.body = {**body, "weights": dict(zip(REGISTERED, body["weights"].values(), strict=False))}


def token_for(case: Case, pylon: PylonDev) -> str:
    # Identity routes of every API (`/api/v1/identity/…`, `/api/_unstable/identity/…`, the login).
    if "/identity/" in case.path:
        return pylon.identity_token
    return pylon.open_access_token


def check_read(case: Case, pylon: PylonDev) -> None:
    steer(case, pylon)
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {token_for(case, pylon)}"},
        timeout=30,
    )
    # A healthy devnet: not even gateway errors (the checks above already refuse other 5xx).
    assert response.status_code < 500, response.text


@reads.parametrize()
@hypothesis.settings(
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    print_blob=True,
)
def test_every_answer_is_documented_and_never_a_server_error(case: Case, pylon: PylonDev) -> None:
    check_read(case, pylon)


@unstable_reads.parametrize()
@hypothesis.settings(
    max_examples=UNSTABLE_EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    print_blob=True,
)
def test_unstable_answers_are_documented_and_never_a_server_error(case: Case, pylon: PylonDev) -> None:
    check_read(case, pylon)


@writes.parametrize()
@hypothesis.settings(
    max_examples=WRITE_EXAMPLES,
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    print_blob=True,
)
def test_writes_answer_as_documented_and_never_fail_inside_the_service(case: Case, pylon: PylonDev) -> None:
    steer(case, pylon)
    # The document types write bodies loosely (a weights key is "a string", a commitment "hex
    # text"), so a body it calls valid may still be a documented 400/422: the acceptance check is
    # left out; every answer must still be a documented status with a matching body.
    response = case.call_and_validate(
        headers={"Authorization": f"Bearer {token_for(case, pylon)}"},
        timeout=60,
        checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
    )
    # The only 5xx a healthy devnet allows a write: the chain refusing a well-formed extrinsic
    # (e.g. a rate limit on commitments), a documented 502 with the chain's reason.
    refused = response.status_code == 502 and "refused" in response.text
    assert response.status_code < 500 or refused, response.text
