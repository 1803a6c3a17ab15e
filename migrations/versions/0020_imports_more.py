"""Imported invoices keep the number the payer's or the other system's document
carries (`inv_invoice.external_number`): with the date and the contract it is the
natural key that makes a re-run of «Импорт счетов» change nothing.

Revision ID: 0020_imports_more
Revises: 0019_accounting_export
Create Date: 2026-12-07 05:00:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0020_imports_more'
down_revision = '0019_accounting_export'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inv_invoice') as batch:
        batch.add_column(sa.Column('external_number', sa.String(50), nullable=True))
        batch.create_index('ix_inv_invoice_external', ['external_number', 'invoice_date'])


def downgrade():
    with op.batch_alter_table('inv_invoice') as batch:
        batch.drop_index('ix_inv_invoice_external')
        batch.drop_column('external_number')
