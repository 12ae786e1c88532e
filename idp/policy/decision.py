"""The shape every policy decision returns: an outcome plus the reasons behind it.

Reasons name the policy object and the setting exactly as the spec does (``authorizationPolicy`` /
``allowInvitesFrom``, ``crossTenantAccessPolicy/partners/{tenantId}`` / ``b2bCollaborationInbound.usersAndGroups``
...), so an admin page, an API error or a sign-in log line can say *which* setting decided.
"""

from __future__ import annotations

from dataclasses import dataclass

from idp.errors import Forbidden


@dataclass(frozen=True)
class Reason:
    """One consulted setting and what it said.

    ``policy`` is the policy object (``authorizationPolicy``, ``b2bManagementPolicy``,
    ``crossTenantAccessPolicy/default``, ``crossTenantAccessPolicy/partners/<id>``,
    ``conditionalAccessPolicies/<id>`` ...), ``setting`` the property path inside it, ``allowed`` whether this
    setting, on its own, lets the request through, and ``message`` a sentence for people.
    """

    policy: str
    setting: str
    allowed: bool
    message: str

    @property
    def name(self) -> str:
        """``policy.setting`` — the fully qualified setting name used in errors and logs."""
        return f"{self.policy}.{self.setting}" if self.setting else self.policy

    def as_dict(self) -> dict[str, object]:
        return {"policy": self.policy, "setting": self.setting, "allowed": self.allowed, "message": self.message}


@dataclass(frozen=True)
class Decision:
    """A yes/no outcome with every reason that was consulted (allowing and refusing ones alike)."""

    allowed: bool
    reasons: tuple[Reason, ...]

    @classmethod
    def of(cls, *reasons: Reason) -> Decision:
        """Allowed only if every reason allows (the most restrictive outcome wins)."""
        return cls(allowed=all(r.allowed for r in reasons), reasons=tuple(reasons))

    @property
    def denied(self) -> bool:
        return not self.allowed

    @property
    def refusals(self) -> tuple[Reason, ...]:
        """The reasons that refused, in evaluation order (empty when allowed)."""
        return tuple(r for r in self.reasons if not r.allowed)

    @property
    def refused_by(self) -> str | None:
        """The fully qualified name of the first setting that refused, or ``None`` when allowed."""
        refusals = self.refusals
        return refusals[0].name if refusals else None

    @property
    def message(self) -> str:
        """Refusal messages when denied, otherwise every reason's message; joined for one-line display."""
        chosen = self.refusals or self.reasons
        return "; ".join(r.message for r in chosen)

    def raise_if_denied(self) -> None:
        """Raise :class:`idp.errors.Forbidden` naming the refusing setting (``field``) when denied."""
        if self.denied:
            raise Forbidden(self.message, field=self.refused_by)

    def as_dict(self) -> dict[str, object]:
        return {"allowed": self.allowed, "reasons": [r.as_dict() for r in self.reasons]}
