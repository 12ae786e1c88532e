"""Portico's planned request checks (scim/validation.py) decide exactly what scim2-models' own checks decide.

Each payload is validated twice, by the provider's resource class and by a twin whose ``_enforce_scim_context``
is the library's again; outcome, error types, locations and messages, and the validated resource must match.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError, model_validator
from scim2_models import Context, EnterpriseUser
from scim2_models.base import BaseModel as ScimModel

from scim.schema import PorticoGroup, PorticoGuest, PorticoUser, UserResource
from scim.validation import enforce_request_context, field_rules

LIBRARY_CHECKS = ScimModel._enforce_scim_context


class LibraryUser(PorticoUser):
    _enforce_scim_context = model_validator(mode="after")(LIBRARY_CHECKS)


class LibraryGroup(PorticoGroup):
    _enforce_scim_context = model_validator(mode="after")(LIBRARY_CHECKS)


USERS = (UserResource, LibraryUser[EnterpriseUser | PorticoGuest])
GROUPS = (PorticoGroup, LibraryGroup)
GUEST = "urn:portico:params:scim:schemas:extension:guest:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CONTEXTS = [Context.RESOURCE_CREATION_REQUEST, Context.RESOURCE_REPLACEMENT_REQUEST, Context.RESOURCE_PATCH_REQUEST,
            Context.RESOURCE_QUERY_REQUEST, Context.SEARCH_REQUEST, Context.BULK_REQUEST,
            Context.RESOURCE_CREATION_RESPONSE, Context.RESOURCE_QUERY_RESPONSE, Context.DEFAULT]


def outcome(model: type[Any], payload: Any, context: Context, in_bulk: bool) -> tuple[Any, ...]:
    scim_context: dict[str, Any] = {"scim": context}
    if in_bulk:
        scim_context["scim_bulk"] = True
    try:
        resource = model.model_validate(payload, context=scim_context)
    except ValidationError as exc:
        return ("refused", [(e["type"], e["loc"], e["msg"]) for e in exc.errors()])
    return ("accepted", resource.model_dump(mode="json"), sorted(resource.model_fields_set))


def assert_same(models: tuple[type[Any], type[Any]], payload: Any, context: Context, in_bulk: bool = False) -> Any:
    ours, library = (outcome(model, payload, context, in_bulk) for model in models)
    assert ours == library
    return ours


USER_PAYLOADS = [
    {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bjensen@contoso.com"},
    {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"]},  # userName missing
    {"userName": None},
    {"userName": "a@contoso.com", "id": "chosen", "meta": {"resourceType": "User"}, "groups": [{"value": "g1"}]},
    {"userName": "a@contoso.com", "password": "secret", "active": "False"},
    {"userName": "a@contoso.com", "emails": [{"value": "a@contoso.com", "primary": True},
                                             {"value": "b@contoso.com", "primary": True}]},
    {"userName": "a@contoso.com", "phoneNumbers": [{"value": "+1", "primary": True}, {"value": "+2"}]},
    {"userName": "a@contoso.com", "emails": []},
    {"userName": "a@contoso.com", "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", GUEST, ENTERPRISE],
     GUEST: {"showInAddressList": False, "externalUserState": "Accepted", "identities": [{"issuer": "x"}]},
     ENTERPRISE: {"employeeNumber": "7", "manager": {"value": "bulkId:boss"}}},
    {"userName": "a@contoso.com", ENTERPRISE: {"manager": {"value": "someone"}}},
]

GROUP_PAYLOADS = [
    {"displayName": "Partners", "members": [{"value": "bulkId:u1"}, {"value": "u2", "display": "ignored"}]},
    {"members": [{"value": "u1"}]},  # displayName missing
    {"displayName": "Partners", "id": "chosen", "members": []},
]


@pytest.mark.parametrize("context", CONTEXTS, ids=lambda c: c.name)
@pytest.mark.parametrize("payload", USER_PAYLOADS)
@pytest.mark.parametrize("in_bulk", [False, True])
def test_user_payloads_get_the_librarys_decision(payload: dict[str, Any], context: Context, in_bulk: bool) -> None:
    assert_same(USERS, payload, context, in_bulk)


@pytest.mark.parametrize("context", CONTEXTS, ids=lambda c: c.name)
@pytest.mark.parametrize("payload", GROUP_PAYLOADS)
@pytest.mark.parametrize("in_bulk", [False, True])
def test_group_payloads_get_the_librarys_decision(payload: dict[str, Any], context: Context, in_bulk: bool) -> None:
    assert_same(GROUPS, payload, context, in_bulk)


def test_the_corpus_exercises_every_check() -> None:
    """The comparisons above are only worth something if both refusals and read-only clearing happen."""
    create = Context.RESOURCE_CREATION_REQUEST
    assert assert_same(USERS, USER_PAYLOADS[1], create)[0] == "refused"  # necessity
    assert assert_same(USERS, USER_PAYLOADS[5], create)[1][0][0] == "primary_uniqueness_error"
    accepted = assert_same(USERS, USER_PAYLOADS[3], create)
    assert accepted[0] == "accepted" and accepted[1].get("id") is None and accepted[1].get("groups") is None
    assert assert_same(USERS, USER_PAYLOADS[4], Context.RESOURCE_QUERY_REQUEST)[1][0][0] == "mutability_error"
    assert assert_same(GROUPS, GROUP_PAYLOADS[1], Context.BULK_REQUEST, in_bulk=True)[0] == "refused"


def test_the_resource_classes_use_the_planned_checks_and_plan_few_fields() -> None:
    for model in (USERS[0], GROUPS[0]):
        validator = model.__pydantic_decorators__.model_validators["_enforce_scim_context"]
        assert validator.func is enforce_request_context
    planned = {rule.name for rule in field_rules(USERS[0])}
    assert {"user_name", "id", "password", "emails", "phone_numbers", "groups"} <= planned
    assert not planned & {"display_name", "title", "nick_name", "locale"}  # nothing to check there


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=6), st.just("bulkId:x"))
ENTRIES = st.lists(st.fixed_dictionaries({}, optional={"value": SCALARS, "primary": st.one_of(st.booleans(),
                                                                                              st.none()),
                                                        "type": SCALARS, "display": SCALARS}), max_size=3)
USER_KEYS = ["userName", "id", "externalId", "displayName", "password", "active", "userType", "title"]
MULTI_KEYS = ["emails", "phoneNumbers", "groups", "roles", "x509Certificates"]
USER_BODIES = st.fixed_dictionaries({}, optional={
    **{key: SCALARS for key in USER_KEYS}, **{key: ENTRIES for key in MULTI_KEYS},
    GUEST: st.fixed_dictionaries({}, optional={"showInAddressList": SCALARS, "creationType": SCALARS,
                                               "sponsors": ENTRIES}),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=USER_BODIES, context=st.sampled_from(CONTEXTS), in_bulk=st.booleans())
def test_random_user_payloads_get_the_librarys_decision(payload: dict[str, Any], context: Context,
                                                        in_bulk: bool) -> None:
    assert_same(USERS, payload, context, in_bulk)


@settings(max_examples=60, deadline=None)
@given(payload=st.fixed_dictionaries({}, optional={"displayName": SCALARS, "id": SCALARS, "members": ENTRIES}),
       context=st.sampled_from(CONTEXTS), in_bulk=st.booleans())
def test_random_group_payloads_get_the_librarys_decision(payload: dict[str, Any], context: Context,
                                                         in_bulk: bool) -> None:
    assert_same(GROUPS, payload, context, in_bulk)
