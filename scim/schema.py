"""What Portico's SCIM service is: its resources, the Portico guest extension, its capabilities and policy.

The provider built here is what ``/Schemas``, ``/ResourceTypes`` and ``/ServiceProviderConfig`` publish, so it
announces exactly what the SQL storage implements (filter, sort, ETags, PATCH, Bulk, RFC 9865 cursors).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import Field
from scim2_models import (
    URN,
    AuthenticationScheme,
    Bulk,
    CaseExact,
    ChangePassword,
    ComplexAttribute,
    EnterpriseUser,
    ETag,
    Extension,
    External,
    Filter,
    Group,
    Mutability,
    MutabilityException,
    Pagination,
    Patch,
    Reference,
    Required,
    Resource,
    ResourceType,
    Returned,
    Schema,
    ScimPolicy,
    ScimProvider,
    ServiceProviderConfig,
    Sort,
    User,
)
from scim2_models.resources.group import GroupMember
from scim2_models.resources.user import Email

from scim.validation import request_checks

PORTICO_GUEST_SCHEMA = "urn:portico:params:scim:schemas:extension:guest:2.0:User"
ENTERPRISE_SCHEMA = str(EnterpriseUser.__schema__)
MAX_RESULTS = 1000
BULK_MAX_OPERATIONS = 1000
BULK_MAX_PAYLOAD = 4 * 1024 * 1024
CURSOR_TIMEOUT = 3600


class ObjectIdentity(ComplexAttribute):
    sign_in_type: Annotated[str | None, Mutability.read_only, CaseExact.true] = None
    """How the user signs in with this identity: ``userPrincipalName``, ``emailAddress``, ``federated``..."""

    issuer: Annotated[str | None, Mutability.read_only, CaseExact.true] = None
    """Who issued the identity: the tenant's initial domain, an email domain, or a federation partner."""

    issuer_assigned_id: Annotated[str | None, Mutability.read_only] = None
    """The identifier the issuer gave the user."""


class Sponsor(ComplexAttribute):
    value: Annotated[str | None, Mutability.read_only, CaseExact.true] = None
    """The id of the sponsoring user or group."""

    type: Annotated[str | None, Mutability.read_only] = Field(None, examples=["User", "Group"])
    """``User`` or ``Group``."""


class InvitedBy(ComplexAttribute):
    value: Annotated[str | None, Mutability.read_only, CaseExact.true] = None
    """The id of the user who invited this guest."""


#: Core User attributes every directory user has a value for (``users.user_type``, ``users.account_enabled``).
DIRECTORY_REQUIRED = {"user_type": "userType", "active": "active"}


class PorticoEmail(Email):
    """An entry of ``emails``. Its address is checked by the directory (``idp.directory.emails.validate_address``,
    the rule every way a user is written applies) and not by pydantic's ``EmailStr`` before it: one rule, and
    half the cost of the address checks of an import. Published as a ``string`` either way."""

    value: str | None = None
    """Email addresses for the user."""

    _enforce_scim_context = request_checks()


class PorticoUser(User):
    """The core User, with ``userType`` restricted to what Portico's directory knows.

    ``userType`` and ``active`` are published as ``required`` (every user has a value, so a PATCH cannot remove
    them: :func:`refuse_unassigned_required`), but the model does not demand them in a POST or PUT: Entra and
    Okta leave ``userType`` out. A creation then gets ``Member``/``true``, a replacement keeps the stored values.
    """

    user_type: str | None = Field(None, examples=["Member", "Guest"])
    """``Member`` or ``Guest`` (b2b-collaboration.md §3)."""

    emails: list[PorticoEmail] | None = None
    """Email addresses for the user."""

    Emails: ClassVar[type[ComplexAttribute]] = PorticoEmail

    _enforce_scim_context = request_checks()

    @classmethod
    def to_schema(cls) -> Schema:
        schema = super().to_schema()
        published = set(DIRECTORY_REQUIRED.values())
        for attribute in schema.attributes or []:
            if attribute.name in published:
                attribute.required = Required.true
        return schema


def refuse_unassigned_required(resource: Resource[Any]) -> None:
    """Refuse a patched User whose ``userType`` or ``active`` became unassigned (RFC 7644 §3.5.2.2: 400
    ``mutability``), whatever the form (``remove``, a null value, a path-less ``replace``)."""
    if not isinstance(resource, PorticoUser):
        return
    for field_name, attribute in DIRECTORY_REQUIRED.items():
        if getattr(resource, field_name) is None:
            raise MutabilityException(attribute=attribute,
                                      detail=f"{attribute} is required: it cannot be removed or set to null")


class PorticoGroupMember(GroupMember):
    display: Annotated[str | None, Mutability.read_only] = None
    """Not stored nor returned: a member's name is its user's ``displayName``."""


class PorticoGroup(Group):
    """The core Group; members are users of the same tenant."""

    members: list[PorticoGroupMember] | None = None
    Members: ClassVar[type[ComplexAttribute]] = PorticoGroupMember

    _enforce_scim_context = request_checks()


class PorticoGuest(Extension):
    """Portico's B2B guest attributes (b2b-collaboration.md §3).

    ``showInAddressList`` is the one a provisioning client writes. The others are Portico's own record of the
    invitation (read-only) and, as Graph returns them only on ``$select``, returned only when asked for with
    ``attributes`` (RFC 7643 §7 ``returned: request``); they can always be filtered on.
    """

    __schema__ = URN(PORTICO_GUEST_SCHEMA)

    show_in_address_list: Annotated[bool | None, Mutability.read_write] = None
    """Whether address lists (the people pickers of the apps that sync the directory) show the user; unassigned
    means shown. Invited guests start hidden (``false``)."""

    external_user_state: Annotated[str | None, Mutability.read_only, Returned.request] = Field(
        None, examples=["PendingAcceptance", "Accepted"]
    )
    """Where a guest is in the invitation flow; empty for members."""

    external_user_state_change_date_time: Annotated[datetime | None, Mutability.read_only, Returned.request] = None
    """When ``externalUserState`` last changed."""

    creation_type: Annotated[str | None, Mutability.read_only, Returned.request] = Field(
        None, examples=["Invitation", "SelfServiceSignUp", "LocalAccount", "EmailVerified"]
    )
    """How the account came to be."""

    identities: Annotated[list[ObjectIdentity] | None, Mutability.read_only, Returned.request] = None
    """The identities the user signs in with."""

    sponsors: Annotated[list[Sponsor] | None, Mutability.read_only, Returned.request] = None
    """The users and groups responsible for this guest."""

    invited_by: Annotated[InvitedBy | None, Mutability.read_only, Returned.request] = None
    """Who invited this guest."""


def keep_address_list_visibility(current: Resource[Any], replacement: Resource[Any]) -> None:
    """A PUT that does not send ``showInAddressList`` keeps the stored value (RFC 7644 §3.5.1 lets the service
    provider assign a value to an omitted ``readWrite`` attribute): Entra's and Okta's PUTs do not know it, and
    must not show a hidden guest. Removing it takes a PATCH."""
    if not isinstance(current, PorticoUser) or not isinstance(replacement, PorticoUser):
        return
    stored = current[PorticoGuest]
    if stored is None or stored.show_in_address_list is None:
        return
    sent = replacement[PorticoGuest]
    if sent is None:
        replacement[PorticoGuest] = PorticoGuest(show_in_address_list=stored.show_in_address_list)
    elif sent.show_in_address_list is None:
        sent.show_in_address_list = stored.show_in_address_list


def service_provider_config() -> ServiceProviderConfig:
    return ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True),
        bulk=Bulk(supported=True, max_operations=BULK_MAX_OPERATIONS, max_payload_size=BULK_MAX_PAYLOAD),
        filter=Filter(supported=True, max_results=MAX_RESULTS),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=True),
        etag=ETag(supported=True),
        pagination=Pagination(
            cursor=True,
            index=True,
            default_pagination_method=Pagination.DefaultPaginationMethod.index,
            default_page_size=100,
            max_page_size=MAX_RESULTS,
            cursor_timeout=CURSOR_TIMEOUT,
        ),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="OAuth Bearer Token",
                description="An access token of the tenant's token endpoint (client_credentials) with the scope "
                "scim.read (reads and searches) and/or scim.write (writes).",
                spec_uri=Reference[External]("https://datatracker.ietf.org/doc/html/rfc6750"),
                primary=True,
            )
        ],
    )


# Entra and Okta send PATCH forms the RFC does not (a remove carrying the values to remove; a path filter that
# matches nothing meaning "add"). Unknown attributes are ignored rather than refused: provisioning clients send
# attributes mapped by administrators that Portico does not keep (documented in scim/README.md).
POLICY = ScimPolicy(
    unknown=ScimPolicy.Unknown.ignore,
    remove_value_as_filter=ScimPolicy.RemoveValue.apply,
    unmatched_path_filter=ScimPolicy.UnmatchedPathFilter.create,
)

UserResource = PorticoUser[EnterpriseUser | PorticoGuest]


def build_provider() -> ScimProvider:
    resource_types = [
        ResourceType.from_resource(UserResource),
        ResourceType.from_resource(PorticoGroup),
    ]
    return ScimProvider(
        models=[PorticoUser, EnterpriseUser, PorticoGuest, PorticoGroup],
        resource_types=resource_types,
        config=service_provider_config(),
        policy=POLICY,
    )


def resource_type_named(provider: ScimProvider, name: str) -> ResourceType:
    return next(rt for rt in provider.resource_types if rt.name == name)


