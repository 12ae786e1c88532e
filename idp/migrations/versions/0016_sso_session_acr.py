"""sso_sessions.acr: the authentication level a sign-in reached (idp.policy.acr), decided when the session
starts (an upstream's ``mfa`` counts only with inbound trust, so it cannot be derived from ``amr`` later).
Sessions from before it are single-factor ("1"): they sign in again for ``acr_values=2``.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-27 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sso_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acr', sa.String(length=8), server_default='1', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('sso_sessions', schema=None) as batch_op:
        batch_op.drop_column('acr')
