"""Rights history and drift: one row per saved change of a role's rights (its whole
values before and after, for rollback) and the preset a role was made from.

Revision ID: 0014_rights_history
Revises: 0010
Create Date: 2026-12-07 01:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_rights_history'
down_revision = '0013_imports'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'role_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('role_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(length=128), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('before', sa.JSON(), nullable=False),
        sa.Column('after', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['role_id'], ['ab_role.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('role_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_role_change_role_id'), ['role_id'], unique=False)
    with op.batch_alter_table('role_profile', schema=None) as batch_op:
        batch_op.add_column(sa.Column('origin_preset', sa.String(length=50), nullable=True))
    # A preset role was made from its own preset.
    op.execute("UPDATE role_profile SET origin_preset = preset WHERE preset IS NOT NULL")


def downgrade():
    with op.batch_alter_table('role_profile', schema=None) as batch_op:
        batch_op.drop_column('origin_preset')
    with op.batch_alter_table('role_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_role_change_role_id'))
    op.drop_table('role_change')
