"""MFA (TOTP authenticators, recovery codes) and the sign-in log

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-27 08:36:29.662965
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import idp.db

revision: str = '0009'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('sign_in_log',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=True),
    sa.Column('user_principal_name', sa.String(length=1024), nullable=True),
    sa.Column('user_display_name', sa.String(length=256), nullable=True),
    sa.Column('user_type', sa.String(length=16), nullable=True),
    sa.Column('home_tenant_id', sa.String(length=512), nullable=True),
    sa.Column('app_id', sa.String(length=256), nullable=True),
    sa.Column('app_display_name', sa.String(length=256), nullable=True),
    sa.Column('upstream_idp', sa.String(length=512), nullable=True),
    sa.Column('client_ip', sa.String(length=45), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=2000), nullable=True),
    sa.Column('refused_by', sa.String(length=512), nullable=True),
    sa.Column('cross_tenant', sa.JSON(), nullable=True),
    sa.Column('conditional_access', sa.JSON(), nullable=True),
    sa.Column('amr', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_sign_in_log_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_log'))
    )
    with op.batch_alter_table('sign_in_log', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_log_tenant_created_at', ['tenant_id', 'created_at'], unique=False)
        batch_op.create_index('ix_sign_in_log_tenant_user', ['tenant_id', 'user_id', 'created_at'], unique=False)

    op.create_table('mfa_recovery_codes',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_mfa_recovery_codes_tenant_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mfa_recovery_codes'))
    )
    with op.batch_alter_table('mfa_recovery_codes', schema=None) as batch_op:
        batch_op.create_index('ix_mfa_recovery_codes_user', ['tenant_id', 'user_id'], unique=False)

    op.create_table('mfa_totp_authenticators',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=False),
    sa.Column('secret_encrypted', sa.Text(), nullable=False),
    sa.Column('created_at', idp.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', idp.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_step', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_mfa_totp_authenticators_tenant_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_mfa_totp_authenticators_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mfa_totp_authenticators')),
    sa.UniqueConstraint('tenant_id', 'user_id', name=op.f('uq_mfa_totp_authenticators_tenant_id_user_id'))
    )
    with op.batch_alter_table('mfa_totp_authenticators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mfa_totp_authenticators_tenant_id'), ['tenant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('mfa_totp_authenticators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mfa_totp_authenticators_tenant_id'))

    op.drop_table('mfa_totp_authenticators')
    with op.batch_alter_table('mfa_recovery_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_mfa_recovery_codes_user')

    op.drop_table('mfa_recovery_codes')
    with op.batch_alter_table('sign_in_log', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_log_tenant_user')
        batch_op.drop_index('ix_sign_in_log_tenant_created_at')

    op.drop_table('sign_in_log')
