"""Season: the documents a round requires, its late policy, its project lists, days late per submission.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('documents', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('late_policy', sa.String(length=16), nullable=False, server_default='refuse'))
        batch_op.add_column(sa.Column('projects', sa.JSON(), nullable=True))
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('days_late', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('days_late')
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_column('projects')
        batch_op.drop_column('late_policy')
        batch_op.drop_column('documents')
