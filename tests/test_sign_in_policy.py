"""Facts gathered for the sign-in decision (origin of a guest, subject ids at home) and the MFA-trust acceptance:
trusting fabrikam's MFA lets a fabrikam user who did MFA at home skip contoso's MFA; without the trust contoso
asks for its own (the journey's ``mfa`` step applies)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from idp import policy_store
from idp.db import Database
from idp.directory import groups, users
from idp.federation import service as federation
from idp.federation.service import ProviderInput
from idp.mfa import step
from idp.models import Tenant, User
from idp.sign_in_policy import check_sign_in, origin_of, record_check

BASE = "http://127.0.0.1:5000"
MFA_FOR_GUESTS = {
    "displayName": "MFA for guests on the app",
    "state": "enabled",
    "conditions": {
        "users": {"includeGuestsOrExternalUsers": {"guestOrExternalUserTypes": "b2bCollaborationGuest",
                                                   "externalTenants": {"membershipKind": "all"}}},
        "applications": {"includeApplications": ["app-1"]},
    },
    "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
}


@pytest.fixture
def db(database: Database) -> Session:
    with database.sessionmaker() as s:
        yield s


def guest_from(db: Session, tenant: Tenant, email: str, issuer: str | None, sub: str | None) -> User:
    user = users.create_guest(db, tenant, email)
    if issuer:
        users.add_identity(db, user, sign_in_type="federated", issuer=issuer, issuer_assigned_id=sub)
    db.flush()
    return user


def test_origin_of_a_guest_from_another_tenant_here(db: Session, contoso: Tenant, fabrikam: Tenant) -> None:
    home_user = users.create_member(db, fabrikam, "fiona@fabrikam.com")
    team = groups.create_group(db, fabrikam, "Sales")
    groups.add_member(db, fabrikam, team, home_user)
    guest = guest_from(db, contoso, "fiona@fabrikam.com", f"{BASE}/fabrikam", home_user.id)
    origin = origin_of(db, contoso, guest, base_url=BASE)
    assert origin is not None
    assert (origin.partner_key, origin.home_tenant.id, origin.upstream_issuer) == (fabrikam.id, fabrikam.id,
                                                                                   f"{BASE}/fabrikam")
    assert origin.subject.user_id == home_user.id and origin.subject.group_ids == {team.id}


def test_origin_of_other_kinds_of_users(db: Session, contoso: Tenant, fabrikam: Tenant) -> None:
    federation.add_provider(db, contoso, ProviderInput(type="oidc", name="Woodgrove", client_id="c",
                                                       client_secret="s", issuer="https://idp.woodgrove.example",
                                                       domains=("woodgrove.example",)), secret_key="k" * 32)
    federation.add_provider(db, contoso, ProviderInput(type="google", client_id="c", client_secret="s"),
                            secret_key="k" * 32)
    enterprise = guest_from(db, contoso, "wes@woodgrove.example", "https://idp.woodgrove.example", "w-1")
    social = guest_from(db, contoso, "gina@gmail.com", "google.com", "g-1")
    otp = guest_from(db, contoso, "otto@example.org", "mail", "otto@example.org")
    pending = guest_from(db, contoso, "paul@fabrikam.com", None, None)
    member = users.create_member(db, contoso, "ada@contoso.com")

    woodgrove = origin_of(db, contoso, enterprise, base_url=BASE)
    assert (woodgrove.partner_key, woodgrove.subject.user_id, woodgrove.home_tenant) == (
        "https://idp.woodgrove.example", "w-1", None)
    google = origin_of(db, contoso, social, base_url=BASE)
    assert (google.partner_key, google.upstream_issuer) == (None, "google.com")
    mail = origin_of(db, contoso, otp, base_url=BASE)
    assert (mail.partner_key, mail.subject.user_id) == (None, None)
    by_domain = origin_of(db, contoso, pending, base_url=BASE)
    assert (by_domain.partner_key, by_domain.subject.user_id) == (fabrikam.id, None)
    assert origin_of(db, contoso, member, base_url=BASE) is None


@dataclass
class JourneyState:
    tenant_id: str
    user_id: str
    mfa_required: bool
    mfa_completed: bool = False


@pytest.mark.parametrize(("trusted", "home_amr", "outcome"), [
    (True, {"pwd", "mfa"}, "allow"),  # MFA done at home and trusted: no second factor here
    (False, {"pwd", "mfa"}, "requireMfa"),  # not trusted: contoso asks for its own
    (True, {"pwd"}, "requireMfa"),  # trusted, but no MFA at home
])
def test_mfa_trust(db: Session, contoso: Tenant, fabrikam: Tenant, trusted: bool, home_amr: set[str],
                   outcome: str) -> None:
    home_user = users.create_member(db, fabrikam, "fiona@fabrikam.com")
    guest = guest_from(db, contoso, "fiona@fabrikam.com", f"{BASE}/fabrikam", home_user.id)
    policy_store.create_conditional_access(db, contoso, MFA_FOR_GUESTS, roles=None, actor="t", now_iso="x")
    if trusted:
        policy_store.create_cross_tenant_partner(db, contoso, {"tenantId": fabrikam.id,
                                                               "inboundTrust": {"isMfaAccepted": True}},
                                                 roles=None, actor="t")
    check = check_sign_in(db, contoso, guest, "app-1", base_url=BASE, upstream_amr=home_amr)
    assert check.decision.outcome == outcome
    state = JourneyState(contoso.id, guest.id, mfa_required=check.decision.outcome == "requireMfa")
    assert step.applies(state) is (outcome == "requireMfa")
    assert check_sign_in(db, contoso, guest, "other-app", base_url=BASE).decision.outcome == "allow"
    after_mfa = check_sign_in(db, contoso, guest, "app-1", base_url=BASE, mfa_completed=True)
    assert after_mfa.decision.outcome == "allow"

    entry = record_check(db, contoso, guest, check, client_id="app-1", amr=home_amr)
    assert entry.outcome == {"allow": "success", "requireMfa": "interrupted"}[outcome]
    assert entry.home_tenant_id == fabrikam.id and entry.upstream_idp == f"{BASE}/fabrikam"


def test_inbound_allow_list_names_the_partners_users(db: Session, contoso: Tenant, fabrikam: Tenant) -> None:
    """Inbound targets are object ids in the partner tenant, not the guest object's id here (§5.1)."""
    home_user = users.create_member(db, fabrikam, "fiona@fabrikam.com")
    guest = guest_from(db, contoso, "fiona@fabrikam.com", f"{BASE}/fabrikam", home_user.id)
    only = {"usersAndGroups": {"accessType": "allowed", "targets": [{"target": home_user.id, "targetType": "user"}]},
            "applications": {"accessType": "allowed",
                             "targets": [{"target": "AllApplications", "targetType": "application"}]}}
    policy_store.create_cross_tenant_partner(db, contoso, {"tenantId": fabrikam.id, "b2bCollaborationInbound": only},
                                             roles=None, actor="t")
    assert check_sign_in(db, contoso, guest, "app-1", base_url=BASE).decision.outcome == "allow"
    other = users.create_member(db, fabrikam, "fred@fabrikam.com")
    second = guest_from(db, contoso, "fred@fabrikam.com", f"{BASE}/fabrikam", other.id)
    refused = check_sign_in(db, contoso, second, "app-1", base_url=BASE).decision
    assert refused.outcome == "block"
    assert refused.cross_tenant.refused_by == f"crossTenantAccessPolicy/partners/{fabrikam.id}." \
        "b2bCollaborationInbound.usersAndGroups"
