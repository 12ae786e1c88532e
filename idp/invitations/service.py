"""The invitation manager (b2b-collaboration.md §1): invite, idempotent re-invite, reset redemption, redeem.

Rules implemented here, never in an interface:
* §1.4 address validation and the existing-user check (UPN, mail, otherMails, identities);
* §1.6 the guest is created at once: ``PendingAcceptance``, ``#EXT#`` UPN, ``creationType=Invitation``, sponsors
  default to the inviter;
* decision 3: inviting a still-pending guest again returns the same user with a fresh redeem URL;
* §1.11 reset redemption keeps object id, groups, assignments and UPN, discards the identity binding, and the new
  address must already be in ``mail`` or ``otherMails``;
* decision 2: tickets are single-use and consumed when redemption completes, not when the link is opened.
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from idp import audit, mail, policy_store
from idp.config import ConfigError, check_url_allowed
from idp.db import scoped, utcnow
from idp.directory import users
from idp.directory.emails import normalize_email, validate_address, validate_invitable_address
from idp.errors import Conflict, Forbidden, NotFound, ValidationError
from idp.invitations.links import block_url
from idp.invitations.mail import compose_invitation
from idp.invitations.model import InvitationRequest, InvitationResult, Inviter, MessageInfo, Recipient
from idp.invitations.tickets import new_ticket, redeem_url, ticket_digest
from idp.languages import N_, Message
from idp.models import Group, Invitation, InvitationBlock, Tenant, User
from idp.policy import (
    AutomaticRedemption,
    automatic_redemption,
    invitation_decision,
    may_invite_as_member,
    redemption_decision,
)

MAX_CUSTOM_MESSAGE = 10_000
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class InvalidTicket(NotFound):
    """The redeem link is unknown, already used or expired."""


def _validate_request(request: InvitationRequest, inviter: Inviter, *, env: str) -> None:
    if not request.invite_redirect_url:
        raise ValidationError("inviteRedirectUrl is required", field="inviteRedirectUrl")
    try:
        check_url_allowed(request.invite_redirect_url, env, "inviteRedirectUrl")
    except ConfigError as exc:
        raise ValidationError(str(exc), field="inviteRedirectUrl") from None
    if request.invited_user_type not in ("Guest", "Member"):
        raise ValidationError("invitedUserType must be Guest or Member", field="invitedUserType")
    if request.invited_user_type == "Member":
        may_invite_as_member(inviter.for_policy()).raise_if_denied()
    info = request.message_info
    if len(info.cc_recipients) > 1:
        raise ValidationError("only one ccRecipient is supported", field="invitedUserMessageInfo.ccRecipients")
    for recipient in info.cc_recipients:
        validate_address(recipient.address, field="invitedUserMessageInfo.ccRecipients")
    if info.customized_message_body is not None and len(info.customized_message_body) > MAX_CUSTOM_MESSAGE:
        raise ValidationError(
            f"customizedMessageBody is limited to {MAX_CUSTOM_MESSAGE} characters",
            field="invitedUserMessageInfo.customizedMessageBody",
        )
    if info.message_language is not None and not LANGUAGE_TAG.match(info.message_language):
        raise ValidationError(
            f"messageLanguage {info.message_language!r} is not a language tag such as en-US",
            field="invitedUserMessageInfo.messageLanguage",
        )
    if request.invited_user_display_name is not None and len(request.invited_user_display_name) > 256:
        raise ValidationError("invitedUserDisplayName is limited to 256 characters", field="invitedUserDisplayName")
    if request.reset_redemption and not request.invited_user_id:
        raise ValidationError("resetRedemption needs invitedUser.id", field="invitedUser.id")


def check_invitation_policy(db: Session, tenant: Tenant, inviter: Inviter, address: str) -> None:
    """Most restrictive wins (§5.4, §6): allowInvitesFrom, the domain lists and cross-tenant access (this tenant's
    inbound settings and, when the invitee's organization is a tenant of this deployment, its outbound ones).
    A refusal raises ``Forbidden`` naming the setting."""
    home = policy_store.home_tenant_of(db, address)
    partner_id = home.id if home is not None and home.id != tenant.id else None
    home_outbound = policy_store.effective_cross_tenant(db, home, tenant.id) if partner_id and home else None
    decision = invitation_decision(
        policy_store.external_collaboration(db, tenant),
        inviter.for_policy(),
        address,
        resource=policy_store.effective_cross_tenant(db, tenant, partner_id),
        home=home_outbound,
    )
    decision.raise_if_denied()


def check_redemption_policy(db: Session, tenant: Tenant, user: User, address: str) -> None:
    """§6.5/§5.9: domain lists still apply to pending invitations; cross-tenant access always applies."""
    home = policy_store.home_tenant_of(db, address)
    partner_id = home.id if home is not None and home.id != tenant.id else None
    home_outbound = policy_store.effective_cross_tenant(db, home, tenant.id) if partner_id and home else None
    redemption_decision(
        policy_store.external_collaboration(db, tenant),
        address,
        user.external_user_state,  # type: ignore[arg-type]
        resource=policy_store.effective_cross_tenant(db, tenant, partner_id),
        home=home_outbound,
    ).raise_if_denied()


def automatic_redemption_for(db: Session, tenant: Tenant, address: str) -> AutomaticRedemption:
    """The §5.6 decision for an invitee at ``address`` (the home tenant is the one owning its verified domain)."""
    home = policy_store.home_tenant_of(db, address)
    if home is None or home.id == tenant.id:
        return automatic_redemption(policy_store.effective_cross_tenant(db, tenant, None), None)
    return automatic_redemption(policy_store.effective_cross_tenant(db, tenant, home.id),
                                policy_store.effective_cross_tenant(db, home, tenant.id))


def _sponsors(db: Session, tenant: Tenant, request: InvitationRequest, inviter: Inviter) -> list[User | Group]:
    if not request.sponsor_ids:
        return [inviter.user] if inviter.user is not None else []
    chosen: list[User | Group] = []
    for sponsor_id in request.sponsor_ids:
        found: User | Group | None = db.scalar(scoped(User, tenant.id).where(User.id == sponsor_id))
        if found is None:
            found = db.scalar(scoped(Group, tenant.id).where(Group.id == sponsor_id))
        if found is None:
            raise ValidationError(f"sponsor {sponsor_id!r} is not a user or group of this tenant",
                                  field="invitedUserSponsors")
        chosen.append(found)
    return chosen


def is_blocked_by_invitee(db: Session, tenant: Tenant, email: str) -> bool:
    stmt = scoped(InvitationBlock, tenant.id).where(InvitationBlock.email_normalized == normalize_email(email))
    return db.scalar(stmt.with_only_columns(InvitationBlock.id)) is not None


def block_future_invitations(db: Session, tenant: Tenant, email: str) -> None:
    """Record the invitee's "Block future invitations" choice (idempotent)."""
    if not is_blocked_by_invitee(db, tenant, email):
        db.add(InvitationBlock(tenant_id=tenant.id, email_normalized=normalize_email(email)))
        audit.record(db, tenant_id=tenant.id, actor=normalize_email(email), activity="Block future invitations")


def _new_invitation(
    db: Session, tenant: Tenant, user: User, request: InvitationRequest, inviter: Inviter, address: str,
    *, issuer: str, now: datetime, ticket_lifetime: int | None,
) -> tuple[Invitation, str]:
    ticket = new_ticket()
    info = request.message_info
    invitation = Invitation(
        tenant_id=tenant.id,
        invited_user_id=user.id,
        invited_user_email_address=address,
        invited_user_display_name=request.invited_user_display_name,
        invited_user_type=user.user_type,
        invite_redirect_url=request.invite_redirect_url,
        send_invitation_message=request.send_invitation_message,
        message_info={
            "messageLanguage": info.message_language,
            "customizedMessageBody": info.customized_message_body,
            "ccRecipients": [{"emailAddress": {"name": r.name, "address": r.address}} for r in info.cc_recipients],
        },
        reset_redemption=request.reset_redemption,
        status="PendingAcceptance",
        ticket_hash=ticket_digest(ticket),
        ticket_expires_at=None if ticket_lifetime is None else now + timedelta(seconds=ticket_lifetime),
        invited_by_user_id=inviter.user.id if inviter.user is not None else None,
        invited_by_client_id=inviter.client_id,
        created_at=now,
    )
    db.add(invitation)
    db.flush()
    return invitation, redeem_url(issuer, tenant.id, invitation.id, ticket)


def invite(
    db: Session,
    tenant: Tenant,
    request: InvitationRequest,
    inviter: Inviter,
    *,
    issuer: str,
    env: str = "development",
    secret_key: str | None = None,
    now: datetime | None = None,
    ticket_lifetime: int | None = None,
) -> InvitationResult:
    """Create (or re-issue, or reset) an invitation; the caller's transaction holds every row it writes,
    the invitation mail included (``sendInvitationMessage``; ``secret_key`` signs its block link)."""
    now = now or utcnow()
    _validate_request(request, inviter, env=env)
    if request.send_invitation_message and not secret_key:
        raise ValueError("sending the invitation mail needs the secret key for its block link")
    if request.reset_redemption:
        result = _reset_redemption(db, tenant, request, inviter, issuer=issuer, env=env, now=now,
                                   ticket_lifetime=ticket_lifetime)
    else:
        result = _invite(db, tenant, request, inviter, issuer=issuer, now=now, ticket_lifetime=ticket_lifetime)
    if request.send_invitation_message:
        _send_invitation_mail(db, tenant, result, inviter, issuer=issuer, secret_key=secret_key or "")
    return result


def _send_invitation_mail(db: Session, tenant: Tenant, result: InvitationResult, inviter: Inviter, *, issuer: str,
                          secret_key: str) -> None:
    """Into the outbox in the invitation's own transaction, unless the invitee blocked this tenant (decision 8)."""
    address = result.invitation.invited_user_email_address
    if is_blocked_by_invitee(db, tenant, address):
        result.warnings.append(f"{address} has blocked invitations from {tenant.display_name}; no mail was sent")
        return
    if automatic_redemption_for(db, tenant, address).suppress_invitation_email:
        result.warnings.append(f"automatic redemption applies to {address} (automaticUserConsentSettings): no "
                               "invitation mail; a notification is sent when the guest first signs in")
        return
    composed = compose_invitation(
        tenant, result.invitation, inviter=inviter.user, redeem_url=result.redeem_url,
        block_url=block_url(issuer, secret_key, tenant.id, address),
    )
    mail.enqueue(db, to=composed.to, subject=composed.subject, text=composed.text, html=composed.html,
                 cc=composed.cc[0] if composed.cc else None, reply_to=composed.reply_to, tenant_id=tenant.id,
                 kind="invitation")


def _invite(
    db: Session, tenant: Tenant, request: InvitationRequest, inviter: Inviter, *, issuer: str, now: datetime,
    ticket_lifetime: int | None,
) -> InvitationResult:
    address = validate_invitable_address(request.invited_user_email_address, field="invitedUserEmailAddress")
    check_invitation_policy(db, tenant, inviter, address)
    existing = users.find_users_by_email(db, tenant, address)
    reused = False
    if existing:
        user = existing[0]
        if not (user.external_user_state == "PendingAcceptance" and user.creation_type == "Invitation"):
            raise Conflict(
                f"a user with the address {address} already exists in {tenant.display_name} and is not a pending "
                "guest; it cannot be invited again (use resetRedemption to re-open its redemption)",
                field="invitedUserEmailAddress",
            )
        reused = True
    else:
        user = users.create_guest(
            db, tenant, address,
            display_name=request.invited_user_display_name,
            user_type=request.invited_user_type,
            sponsors=_sponsors(db, tenant, request, inviter),
            invited_by=inviter.user,
            actor=inviter.actor,
        )
    invitation, url = _new_invitation(db, tenant, user, request, inviter, address, issuer=issuer, now=now,
                                      ticket_lifetime=ticket_lifetime)
    audit.record(db, tenant_id=tenant.id, actor=inviter.actor, activity="Invite external user",
                 target_type="user", target_id=user.id,
                 details={"invitationId": invitation.id, "email": address, "reinvite": reused})
    return InvitationResult(invitation=invitation, user=user, redeem_url=url, reused_existing_user=reused)


def _reset_redemption(
    db: Session, tenant: Tenant, request: InvitationRequest, inviter: Inviter, *, issuer: str, env: str,
    now: datetime, ticket_lifetime: int | None,
) -> InvitationResult:
    user = users.get_user(db, tenant, request.invited_user_id or "")
    address = validate_invitable_address(request.invited_user_email_address, field="invitedUserEmailAddress")
    known = {normalize_email(user.mail or "")} | {m.address_normalized for m in user.other_mails}
    if normalize_email(address) not in known:
        raise ValidationError(
            f"{address} must first be added to the user's mail or otherMails before resetting redemption to it",
            field="invitedUserEmailAddress",
        )
    check_invitation_policy(db, tenant, inviter, address)
    if inviter.is_app_only:
        from idp.directory.roles import roles_of

        if roles_of(db, tenant, user):
            raise Forbidden("an application cannot reset the redemption of a user who holds a directory role")
    for identity in list(user.identities):
        if identity.sign_in_type != "userPrincipalName":
            user.identities.remove(identity)
    user.mail = address
    user.mail_normalized = normalize_email(address)
    user.external_user_state = "PendingAcceptance"
    user.external_user_state_change_at = now
    if user.creation_type is None:
        user.creation_type = "Invitation"
    db.flush()
    invitation, url = _new_invitation(db, tenant, user, request, inviter, address, issuer=issuer, now=now,
                                      ticket_lifetime=ticket_lifetime)
    audit.record(db, tenant_id=tenant.id, actor=inviter.actor, activity="Reset redemption", target_type="user",
                 target_id=user.id, details={"invitationId": invitation.id, "email": address})
    return InvitationResult(invitation=invitation, user=user, redeem_url=url)


def find_redeemable(db: Session, tenant: Tenant, invitation_id: str, ticket: str, *, now: datetime | None = None
                    ) -> Invitation:
    """The invitation a redeem link names, if its ticket is right, unused and unexpired. Opening it consumes nothing."""
    now = now or utcnow()
    invitation = db.scalar(scoped(Invitation, tenant.id).where(Invitation.id == invitation_id))
    if invitation is None or not hmac.compare_digest(invitation.ticket_hash, ticket_digest(ticket or "")):
        raise InvalidTicket(Message(N_(
            "This invitation link is not valid. Ask the person who invited you for a new one.")))
    if invitation.ticket_consumed_at is not None:
        raise InvalidTicket(Message(N_(
            "This invitation link has already been used. Sign in to the application instead.")))
    if invitation.ticket_expires_at is not None and invitation.ticket_expires_at <= now:
        raise InvalidTicket(Message(N_(
            "This invitation link has expired. Ask the person who invited you for a new one.")))
    return invitation


def complete_redemption(
    db: Session,
    tenant: Tenant,
    invitation: Invitation,
    *,
    sign_in_type: str,
    issuer: str,
    issuer_assigned_id: str | None,
    now: datetime | None = None,
) -> User:
    """After authentication and consent (§1.9): bind the identity, mark ``Accepted``, consume the user's tickets."""
    now = now or utcnow()
    user = users.get_user(db, tenant, invitation.invited_user_id)
    if user.external_user_state != "PendingAcceptance":
        raise Conflict(Message(N_("This invitation has already been accepted.")))
    check_redemption_policy(db, tenant, user, invitation.invited_user_email_address)
    users.add_identity(db, user, sign_in_type=sign_in_type, issuer=issuer, issuer_assigned_id=issuer_assigned_id)
    user.external_user_state = "Accepted"
    user.external_user_state_change_at = now
    outstanding = scoped(Invitation, tenant.id).where(
        Invitation.invited_user_id == user.id, Invitation.ticket_consumed_at.is_(None)
    )
    for pending in db.scalars(outstanding):
        pending.ticket_consumed_at = now
        pending.status = "Completed"
        pending.completed_at = now
    db.flush()
    audit.record(db, tenant_id=tenant.id, actor=user.user_principal_name, activity="Redeem invitation",
                 target_type="user", target_id=user.id, details={"invitationId": invitation.id, "issuer": issuer})
    return user


def get_invitation(db: Session, tenant: Tenant, invitation_id: str) -> Invitation:
    invitation = db.scalar(scoped(Invitation, tenant.id).where(Invitation.id == invitation_id))
    if invitation is None:
        raise NotFound(f"no invitation {invitation_id!r}", field="invitation")
    return invitation


def list_invitations(db: Session, tenant: Tenant, *, limit: int = 100, offset: int = 0) -> list[Invitation]:
    stmt = scoped(Invitation, tenant.id).order_by(Invitation.created_at.desc(), Invitation.id).limit(limit)
    return list(db.scalars(stmt.offset(offset)))


def latest_invitation(db: Session, tenant: Tenant, user_id: str) -> Invitation | None:
    stmt = scoped(Invitation, tenant.id).where(Invitation.invited_user_id == user_id)
    return db.scalar(stmt.order_by(Invitation.created_at.desc(), Invitation.id.desc()).limit(1))


def invitations_of(db: Session, tenant: Tenant, user_id: str) -> list[Invitation]:
    stmt = scoped(Invitation, tenant.id).where(Invitation.invited_user_id == user_id)
    return list(db.scalars(stmt.order_by(Invitation.created_at.desc(), Invitation.id.desc())))


def resend_invitation(db: Session, tenant: Tenant, user_id: str, inviter: Inviter, *, issuer: str, env: str,
                      secret_key: str) -> InvitationResult:
    """Resend to a still-pending guest: the idempotent re-invite (decision 3) of its latest invitation, with mail."""
    user = users.get_user(db, tenant, user_id)
    last = latest_invitation(db, tenant, user.id)
    if user.external_user_state != "PendingAcceptance" or last is None:
        raise Conflict("only a guest whose invitation is still pending can be sent the invitation again",
                       field="externalUserState")
    info = last.message_info or {}
    cc = tuple(Recipient(address=r["emailAddress"]["address"], name=r["emailAddress"].get("name"))
               for r in info.get("ccRecipients") or [] if r.get("emailAddress", {}).get("address"))
    request = InvitationRequest(
        invited_user_email_address=last.invited_user_email_address,
        invite_redirect_url=last.invite_redirect_url,
        invited_user_display_name=last.invited_user_display_name,
        invited_user_type=last.invited_user_type,
        send_invitation_message=True,
        message_info=MessageInfo(message_language=info.get("messageLanguage"),
                                 customized_message_body=info.get("customizedMessageBody"), cc_recipients=cc),
        reset_redemption=user.creation_type != "Invitation",
        invited_user_id=user.id,
    )
    return invite(db, tenant, request, inviter, issuer=issuer, env=env, secret_key=secret_key)
