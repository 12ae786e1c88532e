"""``{issuer}/api/v1/invitations``: thin views over ``idp.invitations.service``."""

from __future__ import annotations

from flask import request
from werkzeug.exceptions import BadRequest

from idp.api import blueprint
from idp.api.auth import authenticate
from idp.api.schemas import InvitationCreate
from idp.directory import users
from idp.invitations import service
from idp.invitations.graph import invitation_to_graph
from idp.invitations.model import InvitationRequest, MessageInfo, Recipient
from idp.runtime import request_db, runtime
from idp.tenancy import current_tenant, issuer

INVITE_SCOPE = "User.Invite.All"


def _to_request(body: InvitationCreate) -> InvitationRequest:
    info = body.invitedUserMessageInfo
    message = MessageInfo()
    if info is not None:
        message = MessageInfo(
            message_language=info.messageLanguage,
            customized_message_body=info.customizedMessageBody,
            cc_recipients=tuple(Recipient(address=r.emailAddress.address or "", name=r.emailAddress.name)
                                for r in info.ccRecipients if r.emailAddress.address),
        )
    return InvitationRequest(
        invited_user_email_address=body.invitedUserEmailAddress,
        invite_redirect_url=body.inviteRedirectUrl,
        invited_user_display_name=body.invitedUserDisplayName,
        invited_user_type=body.invitedUserType,
        send_invitation_message=body.sendInvitationMessage,
        message_info=message,
        reset_redemption=body.resetRedemption,
        invited_user_id=body.invitedUser.id if body.invitedUser else None,
        sponsor_ids=tuple(s.id for s in body.invitedUserSponsors),
    )


@blueprint.post("/invitations")
def create_invitation() -> tuple[dict, int]:
    db = request_db()
    tenant = current_tenant()
    inviter = authenticate(db, tenant, issuer(), INVITE_SCOPE)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        raise BadRequest()
    body = InvitationCreate.model_validate(payload)
    settings = runtime().settings
    result = service.invite(db, tenant, _to_request(body), inviter, issuer=issuer(), env=settings.env,
                            secret_key=settings.secret_key)
    response = invitation_to_graph(result.invitation, result.user, result.redeem_url)
    db.commit()  # one transaction: any error above leaves nothing behind (the session is rolled back)
    return response | {"warnings": result.warnings}, 201


@blueprint.get("/invitations")
def list_invitations() -> dict:
    db = request_db()
    tenant = current_tenant()
    authenticate(db, tenant, issuer(), INVITE_SCOPE)
    try:
        top = min(max(int(request.args.get("$top", 100)), 1), 999)
        skip = max(int(request.args.get("$skip", 0)), 0)
    except ValueError:
        raise BadRequest() from None
    items = service.list_invitations(db, tenant, limit=top, offset=skip)
    invitees = users.get_users(db, tenant, {i.invited_user_id for i in items})
    return {"value": [invitation_to_graph(i, invitees[i.invited_user_id], None) for i in items]}


@blueprint.get("/invitations/<invitation_id>")
def get_invitation(invitation_id: str) -> dict:
    db = request_db()
    tenant = current_tenant()
    authenticate(db, tenant, issuer(), INVITE_SCOPE)
    invitation = service.get_invitation(db, tenant, invitation_id)
    return invitation_to_graph(invitation, users.get_user(db, tenant, invitation.invited_user_id), None)
