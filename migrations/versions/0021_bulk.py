"""«Импорт талонов»: a voucher's number in the file it came from, unique with its
branch, date and patient, so that loading the file again finds it.

Revision ID: 0021_bulk
Revises: 0020_imports_more
Create Date: 2026-12-07 05:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0021_bulk'
down_revision = '0020_imports_more'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('vch_voucher') as batch:
        batch.add_column(sa.Column('external_number', sa.String(length=50), nullable=True))
    op.create_index('ux_vch_voucher_external', 'vch_voucher',
                    ['branch_id', 'external_number', 'service_date', 'patient_id'],
                    unique=True)


def downgrade():
    op.drop_index('ux_vch_voucher_external', table_name='vch_voucher')
    with op.batch_alter_table('vch_voucher') as batch:
        batch.drop_column('external_number')
