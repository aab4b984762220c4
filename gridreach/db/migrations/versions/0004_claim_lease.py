"""Claims of inbound messages carry a lease and a done flag, and record the side effects already done.

A message claimed by a process that was killed before it finished is taken again by its redelivery once the lease
has expired; a finished one stays ignored. Claims made before this revision count as finished.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('done', sa.Boolean(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('progress', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.drop_column('progress')
        batch_op.drop_column('done')
        batch_op.drop_column('lease_until')
        batch_op.drop_column('claimed_at')
