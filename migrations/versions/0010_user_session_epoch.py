"""Users' session epoch: sessions and tokens issued before a logout, a password
change or reset or a deactivation are refused.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 00:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0',
                                      nullable=False))


def downgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
