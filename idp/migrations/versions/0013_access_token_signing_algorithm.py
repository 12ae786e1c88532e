"""Per-application signature algorithm of access tokens (RS256 by default, ES256 on request)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27 10:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('applications') as batch_op:
        batch_op.add_column(sa.Column('access_token_signed_response_alg', sa.String(length=16),
                                      server_default='RS256', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('applications') as batch_op:
        batch_op.drop_column('access_token_signed_response_alg')
