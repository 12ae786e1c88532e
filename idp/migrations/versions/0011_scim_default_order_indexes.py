"""SCIM's default order (creation time, then id) indexed, so cursor pages are index range scans; on PostgreSQL,
trigram indexes for the ``co``/``sw``/``ew`` filters on the folded columns (pg_trgm)

Revision ID: 0011
Revises: 0013
Create Date: 2026-11-27 10:50:00
"""

from collections.abc import Sequence

from alembic import op

from idp.migrate import POSTGRESQL_TRIGRAM_INDEXES

revision: str = '0011'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_users_tenant_created_at', 'users', ['tenant_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_groups_tenant_created_at', 'groups', ['tenant_id', 'created_at', 'id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for name, (table, column) in POSTGRESQL_TRIGRAM_INDEXES.items():
            op.create_index(name, table, [column], postgresql_using='gin', postgresql_ops={column: 'gin_trgm_ops'})


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name, (table, _) in POSTGRESQL_TRIGRAM_INDEXES.items():
            op.drop_index(name, table_name=table)
    op.drop_index('ix_groups_tenant_created_at', table_name='groups')
    op.drop_index('ix_users_tenant_created_at', table_name='users')
