"""Property-based contract tests: schemathesis fuzzes every operation of /api/schema/ in process.

The Django WSGI application is called directly (no server, no sockets) against the test database.
Every check schemathesis knows runs (``included_check_names=["all"]``): not_a_server_error,
status_code_conformance, content_type_conformance, response_schema_conformance,
response_headers_conformance, positive_data_acceptance, negative_data_rejection, use_after_free,
ensure_resource_availability, missing_required_header, ignored_auth, object_level_authorization,
unsupported_method, allow_header_conformance (max_response_time only with
OMS_FUZZ_MAX_RESPONSE_TIME, seconds).

Phases: examples, coverage and fuzzing (positive and negative data) per operation, once as a
customer and once as a staff user; then a stateful run. The schema declares no OpenAPI links;
``as_state_machine()`` infers 11 transitions from response schemas (GET /orders/ results → the
{order_id} operations, GET /orders/{id}/events/ → GET /events/, webhook → webhook) plus three
random entry points. No transition starts from POST /orders/ (201), so scenarios only reach
existing orders through the list.

    OMS_FUZZ_EXAMPLES=25      examples per operation and phase (use >=100 on PostgreSQL)
    OMS_FUZZ_SEED=...         seed (fixed by default; generation is also derandomized)
    OMS_FUZZ_STATEFUL=0       skip the stateful test
    OMS_FUZZ_STATEFUL_STEPS   max steps per stateful scenario (default 10)
    OMS_FUZZ_CONTINUE=0       stop each operation at its first failure and shrink it (hypothesis'
                              default); by default all examples run and failures are collected
    OMS_FUZZ_REPORT=path      write the distinct failures as JSON

The schema is loaded at import (collection) time, through the WSGI app: generating it touches no
database. ``schemathesis.pytest.from_fixture`` (lazy loading) cannot be used with pytest 9.2:
schemathesis 4.32 writes ``request.node._nodeid``, which pytest 9.2 no longer has.
"""

from __future__ import annotations

import os

import hypothesis
import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from schemathesis.config import HealthCheck
from schemathesis.core.failures import FailureGroup

from tests.contract.conftest import (
    Identity,
    fuzz_continue,
    fuzz_examples,
    fuzz_seed,
    record_failure,
)

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMA_PATH = "/api/schema/"


def build_schema() -> schemathesis.BaseSchema:
    config = schemathesis.Config(seed=fuzz_seed(), suppress_health_check=[HealthCheck.all])
    project = config.projects.default
    project.generation.update(
        max_examples=fuzz_examples(),
        deterministic=True,  # hypothesis derandomize: the same cases on every run
        database="none",  # no replay from .hypothesis/: runs stay comparable
    )
    max_response_time = os.environ.get("OMS_FUZZ_MAX_RESPONSE_TIME")
    project.checks.update(
        included_check_names=["all"],
        max_response_time=float(max_response_time) if max_response_time else None,
    )
    # Valid data may still be refused by a business rule (more decimals than the currency has, a
    # key already used for another request): the API answers those 422, never 400, so a 400 on
    # schema-valid data still fails the check (the schema would be lying).
    project.checks.positive_data_acceptance.expected_statuses = [
        *project.checks.positive_data_acceptance.expected_statuses,
        "422",
    ]
    project.phases.stateful.max_steps = int(os.environ.get("OMS_FUZZ_STATEFUL_STEPS") or 10)
    return schemathesis.openapi.from_wsgi(SCHEMA_PATH, get_wsgi_application(), config=config)


schema = build_schema()
CURRENT_ROLE = {"role": "?"}


@schema.hook
def after_validate(context, case, response, results) -> None:
    """Collect every failed check (name, failure code, title, smallest example) for the summary."""
    for result in results:
        failure = result.failure
        if failure is None:
            continue
        record_failure(
            role=CURRENT_ROLE["role"],
            operation=case.operation.label,
            check=result.name,
            code=failure.code,
            title=failure.title,
            status=response.status_code,
            msg=f"{failure.message}\nresponse body: {response.text[:400]}",
            curl=case.as_curl_command(headers=dict(response.request.headers)),
        )


def as_a_client_would(case: schemathesis.Case) -> None:
    """Adjust a valid case where a rule the schema cannot express would refuse it.

    * A ``cursor`` is opaque: clients follow ``next``/``previous`` links and never make one up,
      so a made-up one in a valid case is dropped (forged cursors have their own tests: 400).
    * The ``Idempotency-Key`` header and the ``idempotency_key`` body field are the same key:
      when a valid case sends both, the body repeats the header (two keys are a 400, tested).
    """
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return
    if isinstance(case.query, dict):
        case.query.pop("cursor", None)
    headers: dict[str, str] = dict(case.headers or {})
    header = headers.get("Idempotency-Key")
    if header is not None and isinstance(case.body, dict) and "idempotency_key" in case.body:
        case.body["idempotency_key"] = header


@pytest.fixture(params=["customer", "staff"])
def identity(request: pytest.FixtureRequest, in_process_wsgi: None) -> Identity:
    # Users and tokens are created once per pytest item (one operation, one role) and stay for all
    # of its hypothesis examples; transactional_db flushes the tables after the item.
    CURRENT_ROLE["role"] = request.param
    return request.getfixturevalue(f"contract_{request.param}")


@schema.parametrize()
@hypothesis.settings(suppress_health_check=list(hypothesis.HealthCheck))
def test_api_conforms_to_schema(
    case: schemathesis.Case, identity: Identity, item_failures: list[str]
) -> None:
    # Headers passed here count as explicit auth, so ignored_auth re-sends the request without the
    # token and with a bogus one and expects 401/403.
    as_a_client_would(case)
    try:
        case.call_and_validate(headers=identity.headers)
    except FailureGroup as group:
        if not fuzz_continue():
            raise
        item_failures.extend(f"{f.code} {f.title}: {f.message[:160]!r}" for f in group.exceptions)


@pytest.mark.skipif(
    os.environ.get("OMS_FUZZ_STATEFUL", "1") in {"0", "false", "no"}, reason="OMS_FUZZ_STATEFUL=0"
)
def test_stateful_links(identity: Identity, item_failures: list[str]) -> None:
    """Sequences of calls along the transitions schemathesis infers (GET /orders/ → order_id)."""
    base = schema.as_state_machine()

    class Machine(base):  # type: ignore[valid-type,misc]
        def before_call(self, case: schemathesis.Case) -> None:
            as_a_client_would(case)

        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
            return {"headers": identity.headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            # The base class drops the call kwargs; pass the headers so ignored_auth sees them.
            try:
                case.validate_response(
                    response,
                    headers=identity.headers,
                    additional_checks=additional_checks,
                    transport_kwargs=kwargs or None,
                    recorder=getattr(self, "recorder", None),
                )
            except FailureGroup as group:
                if not fuzz_continue():
                    raise
                item_failures.extend(
                    f"{f.code} {f.title}: {f.message[:160]!r}" for f in group.exceptions
                )

    Machine.run(
        settings=hypothesis.settings(
            schema.config.get_hypothesis_settings(phase="stateful"),
            max_examples=fuzz_examples(),
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
