"""Drop indexes no query needs (each cost every insert; bulk imports insert 1,000 users at a time):
``ix_users_tenant_id``, ``ix_groups_tenant_id`` and ``ix_user_other_mails_user_id`` repeat the first column of
other indexes (``uq_users_tenant_id_*``, ``uq_groups_tenant_id_id``,
``uq_user_other_mails_user_id_address_normalized``), and no query orders or filters
users by the exact-case ``display_name`` (SCIM's ``displayName`` is case-insensitive: the folded column's index)

Revision ID: 0018
Revises: 0016
Create Date: 2026-11-27 15:44:59.280820
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0018'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user_other_mails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_other_mails_user_id'))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_tenant_display_name'))
        batch_op.drop_index(batch_op.f('ix_users_tenant_id'))

    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_groups_tenant_id'))


def downgrade() -> None:
    with op.batch_alter_table('groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_groups_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_tenant_id'), ['tenant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_tenant_display_name'), ['tenant_id', 'display_name'], unique=False)

    with op.batch_alter_table('user_other_mails', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_other_mails_user_id'), ['user_id'], unique=False)
