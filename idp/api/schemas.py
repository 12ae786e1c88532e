"""Request and response models of the JSON management API (Graph shapes, camelCase), validated with pydantic.

The OpenAPI document is generated from these models (see ``idp.api.openapi``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, str_strip_whitespace=True)


class EmailAddress(_Strict):
    name: str | None = None
    address: str | None = None


class RecipientModel(_Strict):
    emailAddress: EmailAddress


class InvitedUserMessageInfo(_Strict):
    messageLanguage: str | None = None
    customizedMessageBody: str | None = None
    ccRecipients: list[RecipientModel] = Field(default_factory=list)


class DirectoryObjectRef(_Strict):
    id: str
    userPrincipalName: str | None = None


class InvitationCreate(_Strict):
    """``POST {issuer}/api/v1/invitations`` body (Graph ``invitation``)."""

    invitedUserEmailAddress: str = Field(min_length=3, max_length=320)
    inviteRedirectUrl: str = Field(min_length=1, max_length=2048)
    invitedUserDisplayName: str | None = Field(default=None, max_length=256)
    invitedUserType: Literal["Guest", "Member"] = "Guest"
    sendInvitationMessage: bool = False
    invitedUserMessageInfo: InvitedUserMessageInfo | None = None
    resetRedemption: bool = False
    invitedUser: DirectoryObjectRef | None = None
    invitedUserSponsors: list[DirectoryObjectRef] = Field(default_factory=list, max_length=5)


class InvitationResource(BaseModel):
    """The invitation as returned (minimal fields of §1.5; ``inviteRedeemUrl`` only on create)."""

    id: str
    inviteRedeemUrl: str | None
    invitedUserDisplayName: str | None
    invitedUserType: str
    invitedUserEmailAddress: str
    sendInvitationMessage: bool
    resetRedemption: bool
    inviteRedirectUrl: str
    status: Literal["PendingAcceptance", "Completed"]
    invitedUserMessageInfo: InvitedUserMessageInfo
    invitedUser: DirectoryObjectRef


class InvitationCreated(InvitationResource):
    warnings: list[str] = Field(default_factory=list, description="Portico extension: e.g. mail suppressed")


class InvitationList(BaseModel):
    value: list[InvitationResource]


class ErrorDetail(BaseModel):
    code: str
    message: str
    target: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail


class AuthorizationPolicy(BaseModel):
    """``policies/authorizationPolicy`` (§6.1): PATCH accepts any subset of the writable fields."""

    id: str = "authorizationPolicy"
    displayName: str | None = None
    description: str | None = None
    allowInvitesFrom: Literal["none", "adminsAndGuestInviters", "adminsGuestInvitersAndAllMembers", "everyone"]
    guestUserRole: Literal["member", "limited", "restricted"]
    guestUserRoleId: str
    allowEmailVerifiedUsersToJoinOrganization: bool


class DomainsPolicy(BaseModel):
    AllowedDomains: list[str] | None = None
    BlockedDomains: list[str] | None = None


class B2BManagementPolicyDefinitionBody(BaseModel):
    InvitationsAllowedAndBlockedDomainsPolicy: DomainsPolicy


class B2BManagementPolicyDefinition(BaseModel):
    B2BManagementPolicy: B2BManagementPolicyDefinitionBody


class B2BManagementPolicy(BaseModel):
    """``policies/b2bManagementPolicy`` (§6.5): the allow list *or* the deny list."""

    id: str = "b2bManagementPolicy"
    displayName: str
    type: Literal["B2BManagementPolicy"]
    isOrganizationDefault: bool
    definition: B2BManagementPolicyDefinition


class SelfServiceSignUp(BaseModel):
    isEnabled: bool


class ExternalCollaborationSettings(BaseModel):
    """Portico extension: the whole external collaboration record."""

    allowInvitesFrom: str
    guestUserRole: str
    guestUserRoleId: str
    allowEmailVerifiedUsersToJoinOrganization: bool
    b2bManagementPolicy: B2BManagementPolicyDefinitionBody | dict
    allowExternalIdToUseEmailOtp: Literal["default", "enabled", "disabled"]
    emailOtpForGuests: bool
    selfServiceSignUp: SelfServiceSignUp
    allowExternalUsersToLeave: bool


class PolicyDocumentShape(BaseModel):
    """A policy object in its Graph shape (cross-tenant access §5.1, conditional access §8); validated by
    ``idp.policy``, which names the offending field in a 400."""

    model_config = ConfigDict(extra="allow")


class PolicyList(BaseModel):
    value: list[PolicyDocumentShape]


class SignInStatus(BaseModel):
    errorCode: int
    failureReason: str | None = None
    additionalDetails: str | None = None


class SignIn(BaseModel):
    """A sign-in log entry (Graph ``signIn``; Portico extensions ``outcome``, ``refusedBy``,
    ``upstreamIdentityProvider``, ``crossTenantAccessPolicies``, ``authenticationMethodsReferences``)."""

    model_config = ConfigDict(extra="allow")

    id: str
    createdDateTime: str
    userId: str | None = None
    userPrincipalName: str | None = None
    appId: str | None = None
    ipAddress: str | None = None
    status: SignInStatus
    conditionalAccessStatus: str
    appliedConditionalAccessPolicies: list[dict] = Field(default_factory=list)
    outcome: str


class SignInList(BaseModel):
    value: list[SignIn]
