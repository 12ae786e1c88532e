"""The Graph ``invitation`` resource shape (§1.2, minimal response fields of §1.5)."""

from __future__ import annotations

from typing import Any

from idp.models import Invitation, User


def invitation_to_graph(invitation: Invitation, user: User, redeem_url: str | None) -> dict[str, Any]:
    """``inviteRedeemUrl`` is only known when the ticket is minted (it is stored hashed), so reads return null."""
    info = invitation.message_info or {}
    cc = info.get("ccRecipients") or [{"emailAddress": {"name": None, "address": None}}]
    return {
        "id": invitation.id,
        "inviteRedeemUrl": redeem_url,
        "invitedUserDisplayName": invitation.invited_user_display_name,
        "invitedUserType": invitation.invited_user_type,
        "invitedUserEmailAddress": invitation.invited_user_email_address,
        "sendInvitationMessage": invitation.send_invitation_message,
        "resetRedemption": invitation.reset_redemption,
        "inviteRedirectUrl": invitation.invite_redirect_url,
        "status": invitation.status,
        "invitedUserMessageInfo": {
            "messageLanguage": info.get("messageLanguage"),
            "customizedMessageBody": info.get("customizedMessageBody"),
            "ccRecipients": cc,
        },
        "invitedUser": {"id": user.id, "userPrincipalName": user.user_principal_name},
    }
