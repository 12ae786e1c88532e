"""Bulk requests whose consecutive creations are handed to the storage together (an import of many users).

scim2-server runs a Bulk request one operation at a time. :class:`PorticoScimHandler` keeps its plan, order,
checks and outcomes, but gives a run of consecutive ``POST`` operations on one resource type (without ``bulkId``
references, already validated and authorized one by one) to :meth:`scim.storage.SqlStorage.create_many` in one
call. The storage creates each exactly as a single ``POST`` would and stops at ``failOnErrors``, so the response
is the one the operation-by-operation run gives (``tests/test_scim_bulk_import.py`` compares both).
"""

from __future__ import annotations

from typing import Any, cast

from scim2_models import BulkOperation, Resource, ResourceType
from scim2_server.bulk import BULK_ID_PREFIX, BulkPlan, BulkStep
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.responses import ScimResponse
from scim2_server.routing import Operation
from scim2_server.service import BULK_SUCCESS_STATUS

MIN_RUN = 2  # a single creation takes scim2-server's own path


def may_reference(body: bytes) -> bool:
    """Whether a Bulk request body can hold a ``"bulkId:"`` reference: as a JSON string it is in the body
    literally, unless written with ``\\u`` escapes."""
    return BULK_ID_PREFIX.encode() in body or b"\\u" in body


class PorticoBulkPlan(BulkPlan):
    """scim2-server's plan, where each operation's references are looked for once (scim2-server walks every
    field of an operation's resource, for its plan and again for each step), and not at all in a request
    that cannot hold one (:func:`may_reference`): an import of new users has none."""

    def __init__(self, operations: list[BulkOperation[Resource[Any]]], fail_on_errors: int | None, *,
                 referencing: bool) -> None:
        self._referencing = referencing
        self._found: dict[int, tuple[BulkOperation[Resource[Any]], list[str]]] = {}
        super().__init__(operations, fail_on_errors)

    def references(self, operation: BulkOperation[Resource[Any]]) -> list[str]:  # type: ignore[override]
        if not self._referencing:
            return []
        found = self._found.get(id(operation))
        if found is None or found[0] is not operation:  # the entry keeps the operation alive: ids are not reused
            found = self._found[id(operation)] = (operation, BulkPlan.references(operation))
        return found[1]


class PorticoScimHandler(ScimHandler):
    """scim2-server's handler, with runs of Bulk creations created by the storage together."""

    def bulk(self, request: ScimRequest) -> ScimResponse:
        if not hasattr(self.storage, "create_many"):
            return super().bulk(request)
        with self.service.provider:
            self.service.route(request, Operation.bulk)
            plan = self.service.read_bulk(request.body, request.header("Content-Type"))
            references = [plan.references(operation) for operation in plan.operations]
            referenced = {bulk_id for found in references for bulk_id in found}
            steps, position = plan.steps, 0
            while position < len(steps) and not plan.stopped:
                run = self._creation_run(request, plan, references, steps, position)
                if len(run) >= MIN_RUN:
                    self._create_run(request, plan, run, referenced)
                    position += len(run)
                    continue
                step = steps[position]
                result, resource = self.run_bulk_step(request, plan, step)
                plan.record(step, result, resource)
                position += 1
            return self.service.bulk_response(plan)

    def _creatable(
        self, request: ScimRequest, plan: BulkPlan, references: list[list[str]], step: BulkStep
    ) -> ResourceType | None:
        """The resource type of a POST that can join a run: valid, authorized, referencing no other operation."""
        operation = plan.operation(step)
        if (operation.method != BulkOperation.Method.post or references[step.index]
                or not (operation.bulk_id is None or plan.is_creation(step.index, operation.bulk_id))
                or self.service.bulk_validation_failure(operation, {}) is not None):
            return None
        try:
            resource_type = self.service.route_bulk_operation(operation)
            if resource_type is not None:
                self.service.authorize_bulk_operation(request, operation, resource_type)
        except Exception:  # the operation fails on its own, through run_bulk_step
            return None
        return resource_type

    def _creation_run(
        self, request: ScimRequest, plan: BulkPlan, references: list[list[str]], steps: list[BulkStep], start: int
    ) -> list[tuple[BulkStep, ResourceType]]:
        run: list[tuple[BulkStep, ResourceType]] = []
        for step in steps[start:]:
            resource_type = self._creatable(request, plan, references, step)
            if resource_type is None or (run and resource_type.id != run[0][1].id):
                break
            run.append((step, resource_type))
        return run

    def _create_run(
        self, request: ScimRequest, plan: BulkPlan, run: list[tuple[BulkStep, ResourceType]], referenced: set[str]
    ) -> None:
        resource_type = run[0][1]
        operations = [plan.operation(step) for step, _ in run]
        room = None if plan.fail_on_errors is None else plan.fail_on_errors - plan.errors
        results = self.storage.create_many(  # type: ignore[attr-defined]
            resource_type, [cast(Resource[Any], op.data) for op in operations], max_errors=room
        )
        model = self.service.get_model(resource_type)
        for (step, _), operation, result in zip(run, operations, results, strict=False):
            outcome = self.service.bulk_outcome(request.base_url, operation)
            if isinstance(result, Exception):
                plan.record(step, self.service.bulk_failure(outcome, result), None)
                continue
            if isinstance(result, dict):  # the storage's JSON: the outcome needs its id and version only
                outcome.update(status=BULK_SUCCESS_STATUS[BulkOperation.Method.post], location=self.service.
                               resource_location(request.base_url, resource_type, result["id"]),
                               version=result["meta"]["version"] if self.service.etag_supported else None)
                # A later operation's "bulkId:" reference reads the created resource's id, and nothing else.
                created = model.model_construct(id=result["id"]) if operation.bulk_id in referenced else None
                plan.record(step, outcome, created)
                continue
            plan.record(step, self.service.bulk_success(request.base_url, operation, outcome, result), result)
