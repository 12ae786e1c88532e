"""users.show_in_address_list (Graph's showInAddressList, published over SCIM in the Portico guest extension);
guests already invited are hidden, as new invitations hide them (b2b-collaboration.md §3.1)

Revision ID: 0015
Revises: 0011
Create Date: 2026-11-27 12:51:15
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('show_in_address_list', sa.Boolean(), nullable=True))
    op.execute(sa.text("UPDATE users SET show_in_address_list = :hidden WHERE creation_type = 'Invitation'")
               .bindparams(hidden=False))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('show_in_address_list')
