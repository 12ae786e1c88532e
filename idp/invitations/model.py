"""Plain data of the invitation service: what a caller asks for, who asks, and what comes back."""

from __future__ import annotations

from dataclasses import dataclass, field

from idp.models import Invitation, User
from idp.policy import Inviter as PolicyInviter


@dataclass(frozen=True)
class Recipient:
    address: str
    name: str | None = None


@dataclass(frozen=True)
class MessageInfo:
    """``invitedUserMessageInfo`` (§1.3)."""

    message_language: str | None = None
    customized_message_body: str | None = None
    cc_recipients: tuple[Recipient, ...] = ()


@dataclass(frozen=True)
class InvitationRequest:
    """The Graph ``invitation`` input (§1.2), in Python names."""

    invited_user_email_address: str
    invite_redirect_url: str
    invited_user_display_name: str | None = None
    invited_user_type: str = "Guest"
    send_invitation_message: bool = False
    message_info: MessageInfo = field(default_factory=MessageInfo)
    reset_redemption: bool = False
    invited_user_id: str | None = None
    sponsor_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Inviter:
    """Who invites: a signed-in user (with their roles) or an application using its own identity (app-only)."""

    user: User | None = None
    client_id: str | None = None
    roles: frozenset[str] = frozenset()
    operator: bool = False  # the `portico` command line: full authority over the deployment

    @property
    def is_app_only(self) -> bool:
        return self.user is None and not self.operator

    def for_policy(self) -> PolicyInviter:
        """The caller as the pure policy decisions see it."""
        if self.operator:
            return PolicyInviter.member("Global Administrator")
        if self.user is None:
            return PolicyInviter.application()
        kind = PolicyInviter.guest if self.user.user_type == "Guest" else PolicyInviter.member
        return kind(*self.roles)

    @property
    def actor(self) -> str:
        if self.user is not None:
            return self.user.user_principal_name
        return "cli" if self.operator else f"app:{self.client_id}"


@dataclass
class InvitationResult:
    invitation: Invitation
    user: User
    redeem_url: str
    warnings: list[str] = field(default_factory=list)
    reused_existing_user: bool = False
