"""The second factor's last accepted time step, so that a code admits once.

Revision ID: 0024_totp_last_step
Revises: 0023_payer_accounts
Create Date: 2026-12-07 11:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024_totp_last_step'
down_revision = '0023_payer_accounts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_totp') as batch:
        batch.add_column(sa.Column('last_step', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('user_totp') as batch:
        batch.drop_column('last_step')
