"""scim attributes: case-folded display names, user profile columns, email types

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 07:57:59.331496
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name_normalized', sa.String(length=256), nullable=True))
        batch_op.create_index('ix_groups_tenant_display_name_normalized', ['tenant_id', 'display_name_normalized'], unique=False)

    with op.batch_alter_table('user_other_mails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('type', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('display', sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column('is_primary', sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name_normalized', sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column('user_principal_name_normalized', sa.String(length=1024), nullable=True))
        batch_op.add_column(sa.Column('title', sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column('nick_name', sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column('employee_number', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('profile_attributes', sa.JSON(), nullable=True))
        batch_op.create_index('ix_users_tenant_display_name_normalized', ['tenant_id', 'display_name_normalized'], unique=False)

    # Existing rows get the folded form the models now maintain (ASCII folding here; later writes use Python's).
    op.execute("UPDATE users SET display_name_normalized = lower(display_name)")
    op.execute("UPDATE groups SET display_name_normalized = lower(display_name)")
    op.execute("UPDATE users SET user_principal_name_normalized = lower(user_principal_name)")
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f('uq_users_tenant_id_user_principal_name_normalized'),
            ['tenant_id', 'user_principal_name_normalized'],
        )
    with op.batch_alter_table('user_other_mails', schema=None) as batch_op:
        batch_op.alter_column('is_primary', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_users_tenant_id_user_principal_name_normalized'), type_='unique')
        batch_op.drop_index('ix_users_tenant_display_name_normalized')
        batch_op.drop_column('user_principal_name_normalized')
        batch_op.drop_column('profile_attributes')
        batch_op.drop_column('employee_number')
        batch_op.drop_column('nick_name')
        batch_op.drop_column('title')
        batch_op.drop_column('display_name_normalized')

    with op.batch_alter_table('user_other_mails', schema=None) as batch_op:
        batch_op.drop_column('is_primary')
        batch_op.drop_column('display')
        batch_op.drop_column('type')

    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_index('ix_groups_tenant_display_name_normalized')
        batch_op.drop_column('display_name_normalized')

