"""The import log: one row per run of an import (who, which file, what it did).

Revision ID: 0013_imports
Revises: 0010
Create Date: 2026-12-07 01:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_imports'
down_revision = '0012_money'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'import_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(length=256), nullable=False),
        sa.Column('kind', sa.String(length=50), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('inserted', sa.Integer(), nullable=False),
        sa.Column('updated', sa.Integer(), nullable=False),
        sa.Column('unchanged', sa.Integer(), nullable=False),
        sa.Column('errors', sa.Integer(), nullable=False),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('job_id', sa.String(length=64), nullable=True),
        sa.Column('details', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('import_log', schema=None) as batch_op:
        batch_op.create_index('ix_import_log_at', ['at'], unique=False)
        batch_op.create_index('ix_import_log_user_id', ['user_id'], unique=False)


def downgrade():
    op.drop_table('import_log')
