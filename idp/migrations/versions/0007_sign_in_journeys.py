"""sign-in journeys; sso_sessions.idp

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 08:36:02.421609
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('signin_journeys',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('state', sa.JSON(), nullable=False),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_signin_journeys_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signin_journeys')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_signin_journeys_token_hash'))
    )
    with op.batch_alter_table('signin_journeys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signin_journeys_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_signin_journeys_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('sso_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idp', sa.String(length=512), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sso_sessions', schema=None) as batch_op:
        batch_op.drop_column('idp')
    with op.batch_alter_table('signin_journeys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signin_journeys_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_signin_journeys_expires_at'))

    op.drop_table('signin_journeys')
