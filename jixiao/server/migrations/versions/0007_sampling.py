"""抽查复核 and 工作考核: a round's sample, the reviewers' 复核得分 per row, their 工作考核 scores per unit.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'samples',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('round_id', sa.Integer(), sa.ForeignKey('rounds.id'), nullable=False, unique=True),
        sa.Column('draw', sa.JSON(), nullable=False),
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id'), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('confirmed_by', sa.String(length=100), nullable=True),
    )
    op.create_table(
        'rechecks',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('round_id', sa.Integer(), sa.ForeignKey('rounds.id'), nullable=False, index=True),
        sa.Column('form_key', sa.String(length=300), nullable=False),
        sa.Column('row', sa.Integer(), nullable=False),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('user_name', sa.String(length=100), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('form_key', 'row', name='uq_recheck'),
    )
    op.create_table(
        'assessment_scores',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('round_id', sa.Integer(), sa.ForeignKey('rounds.id'), nullable=False, index=True),
        sa.Column('unit_id', sa.Integer(), sa.ForeignKey('units.id'), nullable=False),
        sa.Column('item', sa.String(length=40), nullable=False),
        sa.Column('score', sa.Float(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('user_name', sa.String(length=100), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('round_id', 'unit_id', 'item', name='uq_assessment_score'),
    )


def downgrade() -> None:
    op.drop_table('assessment_scores')
    op.drop_table('rechecks')
    op.drop_table('samples')
