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
