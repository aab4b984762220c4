"""Binding and replay protection: database-backed attempt limits (shared by every process), seen callback
nonces (WeChat replay window), campaigns opened before binding.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('limited_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_limited_attempts'))
    )
    with op.batch_alter_table('limited_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_limited_attempts_at'), ['at'], unique=False)
        batch_op.create_index('ix_limited_attempts_scope_subject', ['scope', 'subject'], unique=False)

    op.create_table('seen_nonces',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('nonce_key', sa.String(length=64), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_seen_nonces')),
    sa.UniqueConstraint('scope', 'nonce_key', name=op.f('uq_seen_nonces_scope_nonce_key'))
    )
    with op.batch_alter_table('seen_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_seen_nonces_expires_at'), ['expires_at'], unique=False)

    op.create_table('pending_campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_pending_campaigns_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_campaigns')),
    sa.UniqueConstraint('channel', 'external_id', name=op.f('uq_pending_campaigns_channel_external_id'))
    )
    with op.batch_alter_table('pending_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pending_campaigns_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pending_campaigns_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('pending_campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pending_campaigns_created_at'))
        batch_op.drop_index(batch_op.f('ix_pending_campaigns_campaign_id'))

    op.drop_table('pending_campaigns')
    with op.batch_alter_table('seen_nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_seen_nonces_expires_at'))

    op.drop_table('seen_nonces')
    with op.batch_alter_table('limited_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_limited_attempts_scope_subject')
        batch_op.drop_index(batch_op.f('ix_limited_attempts_at'))

    op.drop_table('limited_attempts')
