"""SQLAlchemy models. Importing this package registers every table on ``idp.db.Base.metadata``."""

from idp.models.application import AppAssignment, Application, ApplicationOwner, ApplicationSecret
from idp.models.audit import AuditEvent
from idp.models.backchannel import BackchannelLogout
from idp.models.group import Group, GroupMember, GroupOwner
from idp.models.identity_provider import PROVIDER_TYPES, IdentityProvider, IdentityProviderDomain
from idp.models.invitation import Invitation, InvitationBlock
from idp.models.journey import SignInJourney
from idp.models.mail import OutboxMessage
from idp.models.mfa import RecoveryCode, TotpAuthenticator
from idp.models.oidc import (
    AuthorizationCode,
    ConsentGrant,
    RefreshToken,
    RevokedAccessToken,
    SsoSession,
    SsoSessionClient,
    UsedClientAssertion,
)
from idp.models.otp import EmailOtpCode
from idp.models.policy_document import PolicyDocument
from idp.models.role import DIRECTORY_ROLES, DirectoryRoleAssignment
from idp.models.sign_in_log import SignInLogEntry
from idp.models.tenant import Tenant, TenantDomain
from idp.models.user import User, UserIdentity, UserOtherMail, UserSponsor

__all__ = [
    "DIRECTORY_ROLES",
    "PROVIDER_TYPES",
    "AppAssignment",
    "Application",
    "ApplicationOwner",
    "ApplicationSecret",
    "AuditEvent",
    "BackchannelLogout",
    "SsoSessionClient",
    "SignInJourney",
    "SsoSession",
    "RevokedAccessToken",
    "RefreshToken",
    "ConsentGrant",
    "AuthorizationCode",
    "DirectoryRoleAssignment",
    "EmailOtpCode",
    "Group",
    "GroupMember",
    "GroupOwner",
    "Invitation",
    "InvitationBlock",
    "IdentityProvider",
    "IdentityProviderDomain",
    "OutboxMessage",
    "PolicyDocument",
    "RecoveryCode",
    "SignInLogEntry",
    "TotpAuthenticator",
    "Tenant",
    "TenantDomain",
    "UsedClientAssertion",
    "User",
    "UserIdentity",
    "UserOtherMail",
    "UserSponsor",
]
