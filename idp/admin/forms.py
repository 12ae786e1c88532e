"""The admin center's forms (flask-wtf: every POST carries the CSRF token). Labels are the public interface:
tests and people find fields by them."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    EmailField,
    RadioField,
    SearchField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    URLField,
)
from wtforms.fields import SelectChoice
from wtforms.validators import URL, DataRequired, Email, Length, Optional

from idp.directory.user_admin import STATE_FILTERS
from idp.invitations.bulk import MAX_BYTES
from idp.invitations.service import MAX_CUSTOM_MESSAGE
from idp.policy.conditional_access import POLICY_STATES
from idp.policy.external_collaboration import ALLOW_INVITES_FROM, GUEST_USER_ROLES

STATE_LABELS = {"enabled": "On (enabled)", "disabled": "Off (disabled)",
                "enabledForReportingButNotEnforced": "Report-only (enabledForReportingButNotEnforced)"}
LANGUAGES = [("", "Default (the invitee's organization or browser)"), ("en", "English"), ("de", "Deutsch")]


def options(pairs: list[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class UserFilterForm(FlaskForm):
    """GET filters of the Users page (no state change, so no CSRF token)."""

    class Meta:
        csrf = False

    type = SelectField("User type", choices=options([("", "All"), ("Member", "Member"), ("Guest", "Guest")]),
                       default="")
    state = SelectField("Invitation state", choices=options([("", "All")] + [(s, s) for s in STATE_FILTERS]),
                        default="")
    q = SearchField("Search", validators=[Optional(), Length(max=256)])


class ConfirmForm(FlaskForm):
    """A button that changes something: only the CSRF token travels with it."""


class InviteForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Email(), Length(max=320)])
    display_name = StringField("Display name", validators=[Optional(), Length(max=256)])
    redirect_url = URLField("Redirect URL", validators=[DataRequired(), URL(require_tld=False), Length(max=2048)])
    send_message = BooleanField("Send invitation message", default=True)
    custom_message = TextAreaField("Custom message", validators=[Optional(), Length(max=MAX_CUSTOM_MESSAGE)])
    language = SelectField("Message language", choices=options(LANGUAGES), default="")
    submit = SubmitField("Invite")


class ResetRedemptionForm(FlaskForm):
    email = EmailField("Email address", validators=[DataRequired(), Email(), Length(max=320)])
    redirect_url = URLField("Redirect URL", validators=[DataRequired(), URL(require_tld=False), Length(max=2048)])
    send_message = BooleanField("Send invitation message", default=True)
    submit = SubmitField("Reset redemption")


class BulkInviteForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired("Choose a CSV file to upload.")])
    default_redirect_url = URLField("Default redirect URL",
                                    validators=[Optional(), URL(require_tld=False), Length(max=2048)])
    submit = SubmitField("Upload and invite")


class ExternalCollaborationForm(FlaskForm):
    allow_invites_from = SelectField("Guest invite restrictions (allowInvitesFrom)",
                                     choices=options([(v, v) for v in ALLOW_INVITES_FROM]))
    guest_user_role = SelectField("Guest user access (guestUserRole)",
                                  choices=options([(v, v) for v in GUEST_USER_ROLES]))
    domain_mode = RadioField("Collaboration restrictions", choices=options([
        ("any", "Allow invitations to be sent to any domain"),
        ("deny", "Deny invitations to the specified domains"),
        ("allow", "Allow invitations only to the specified domains"),
    ]), default="any")
    domains = TextAreaField("Domains (one per line)", validators=[Length(max=MAX_BYTES)])
    email_otp_for_guests = BooleanField("Email one-time passcode for guests (emailOtpForGuests)")
    self_service_sign_up = BooleanField("Enable guest self-service sign-up (selfServiceSignUp.isEnabled)")
    allow_leave = BooleanField("Allow external users to remove themselves from the organization")
    submit = SubmitField("Save")


class JsonDocumentForm(FlaskForm):
    """A Graph JSON document edited in a labelled textarea (cross-tenant default and partners)."""

    document = TextAreaField("Configuration (JSON)", validators=[DataRequired(), Length(max=100_000)])
    submit = SubmitField("Save")


class PartnerForm(JsonDocumentForm):
    tenant_id = StringField("Partner tenant ID", validators=[Optional(), Length(max=512)])
    document = TextAreaField("Partner configuration (JSON)", validators=[Length(max=100_000)])


class ConditionalAccessForm(FlaskForm):
    display_name = StringField("Name", validators=[DataRequired(), Length(max=256)])
    state = SelectField("State", choices=options([(s, STATE_LABELS[s]) for s in POLICY_STATES]))
    document = TextAreaField("Policy (JSON)", validators=[DataRequired(), Length(max=100_000)])
    submit = SubmitField("Save")

