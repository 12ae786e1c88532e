"""SCIM's default order (creation time, then id) indexed, so cursor pages are index range scans

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-27 10:50:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0011'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_users_tenant_created_at', 'users', ['tenant_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_groups_tenant_created_at', 'groups', ['tenant_id', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_groups_tenant_created_at', table_name='groups')
    op.drop_index('ix_users_tenant_created_at', table_name='users')
