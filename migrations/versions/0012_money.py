"""Money: personal accounts, transactions, cash registers, shifts, fiscal receipts and
the inalterable chain of posted money documents (issue 15).

Revision ID: 0012_money
Revises: 0011_invoices
Create Date: 2026-12-07 01:33:05.175525

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_money'
down_revision = '0011_invoices'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('money_emulator',
    sa.Column('serial', sa.String(length=40), nullable=False),
    sa.Column('memory', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('serial')
    )
    op.create_table('money_chain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('doc_type', sa.String(length=20), nullable=False),
    sa.Column('doc_id', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('created_on', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['org_unit.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('branch_id', 'seq', name='uq_money_chain_seq'),
    sa.UniqueConstraint('doc_type', 'doc_id', name='uq_money_chain_doc')
    )
    op.create_table('money_chain_head',
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['org_unit.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('branch_id')
    )
    op.create_table('money_register',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('serial', sa.String(length=40), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default='1', nullable=False),
    sa.Column('default_section_id', sa.Integer(), nullable=True),
    sa.Column('vat_rate', sa.Integer(), server_default='-1', nullable=False),
    sa.CheckConstraint('vat_rate IN (-1, 0, 10, 20)', name='ck_money_register_vat'),
    sa.ForeignKeyConstraint(['branch_id'], ['org_unit.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['default_section_id'], ['ref_payment_section.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('serial')
    )
    with op.batch_alter_table('money_register', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_money_register_branch_id'), ['branch_id'], unique=False)

    op.create_table('money_shift',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('register_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=8), nullable=False),
    sa.Column('opened_on', sa.DateTime(), nullable=False),
    sa.Column('closed_on', sa.DateTime(), nullable=True),
    sa.Column('opened_by_id', sa.Integer(), nullable=True),
    sa.Column('sales', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('refunds', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('cash_in', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('cash_out', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('receipts', sa.Integer(), nullable=False),
    sa.Column('z_document', sa.Integer(), nullable=True),
    sa.Column('reconciliation', sa.Text(), nullable=True),
    sa.CheckConstraint("state IN ('open', 'closed')", name='ck_money_shift_state'),
    sa.ForeignKeyConstraint(['branch_id'], ['org_unit.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['opened_by_id'], ['ab_user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['register_id'], ['money_register.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('register_id', 'number', name='uq_money_shift_number')
    )
    with op.batch_alter_table('money_shift', schema=None) as batch_op:
        batch_op.create_index('ix_money_shift_register_state', ['register_id', 'state'], unique=False)

    op.create_table('money_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('balance', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False),
    sa.Column('advance', sa.Numeric(precision=14, scale=2), server_default='0', nullable=False),
    sa.Column('allow_negative', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('no_cash_desk', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('created_on', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.CheckConstraint("(kind = 'patient' AND patient_id IS NOT NULL AND organisation_id IS NULL) OR (kind = 'organisation' AND organisation_id IS NOT NULL AND patient_id IS NULL)", name='ck_money_account_holder'),
    sa.CheckConstraint("kind IN ('patient', 'organisation')", name='ck_money_account_kind'),
    sa.CheckConstraint('advance >= 0', name='ck_money_account_advance'),
    sa.CheckConstraint('allow_negative OR balance >= 0', name='ck_money_account_balance'),
    sa.ForeignKeyConstraint(['branch_id'], ['org_unit.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['organisation_id'], ['ctr_organisation.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['patient_id'], ['pat_patient.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('branch_id', 'organisation_id', name='uq_money_account_org'),
    sa.UniqueConstraint('branch_id', 'patient_id', name='uq_money_account_patient')
    )
    with op.batch_alter_table('money_account', schema=None) as batch_op:
        batch_op.create_index('ix_money_account_branch_kind', ['branch_id', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_money_account_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_money_account_patient_id'), ['patient_id'], unique=False)

    op.create_table('money_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idem_key', sa.String(length=64), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('register_id', sa.Integer(), nullable=False),
    sa.Column('shift_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('intent', sa.Text(), nullable=False),
    sa.Column('fiscal_number', sa.Integer(), nullable=True),
    sa.Column('shift_receipt', sa.Integer(), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('sale', 'refund', 'cash_in', 'cash_out', 'zero')", name='ck_money_receipt_kind'),
    sa.CheckConstraint("state IN ('pending', 'confirmed', 'failed')", name='ck_money_receipt_state'),
    sa.CheckConstraint('total >= 0', name='ck_money_receipt_total'),
    sa.ForeignKeyConstraint(['account_id'], ['money_account.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['branch_id'], ['org_unit.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['register_id'], ['money_register.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['shift_id'], ['money_shift.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idem_key')
    )
    with op.batch_alter_table('money_receipt', schema=None) as batch_op:
        batch_op.create_index('ix_money_receipt_shift', ['shift_id', 'state'], unique=False)

    op.create_table('money_transaction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idem_key', sa.String(length=80), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('delta', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('discount_id', sa.Integer(), nullable=True),
    sa.Column('discount_amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('voucher_line_id', sa.Integer(), nullable=True),
    sa.Column('section_id', sa.Integer(), nullable=True),
    sa.Column('receipt_id', sa.Integer(), nullable=True),
    sa.Column('shift_id', sa.Integer(), nullable=True),
    sa.Column('related_id', sa.Integer(), nullable=True),
    sa.Column('invoice_id', sa.Integer(), nullable=True),
    sa.Column('reversed', sa.Boolean(), server_default='0', nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('posted_on', sa.Date(), nullable=False),
    sa.Column('created_on', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("kind IN ('deposit', 'payment', 'advance', 'refund', 'transfer_out', 'transfer_in', 'reversal')", name='ck_money_tx_kind'),
    sa.CheckConstraint("source IN ('desk', 'pharmacy')", name='ck_money_tx_source'),
    sa.CheckConstraint('amount > 0', name='ck_money_tx_amount'),
    sa.CheckConstraint('discount_amount >= 0', name='ck_money_tx_discount'),
    sa.ForeignKeyConstraint(['account_id'], ['money_account.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['invoice_id'], ['inv_invoice.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['branch_id'], ['org_unit.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['ab_user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['discount_id'], ['ref_discount.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['receipt_id'], ['money_receipt.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['related_id'], ['money_transaction.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['section_id'], ['ref_payment_section.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['shift_id'], ['money_shift.id'], ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['voucher_line_id'], ['vch_line.id'], ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idem_key')
    )
    with op.batch_alter_table('money_transaction', schema=None) as batch_op:
        batch_op.create_index('ix_money_tx_invoice', ['invoice_id'], unique=False)
        batch_op.create_index('ix_money_tx_account', ['account_id', 'id'], unique=False)
        batch_op.create_index('ix_money_tx_branch_date', ['branch_id', 'posted_on'], unique=False)
        batch_op.create_index('ix_money_tx_line', ['voucher_line_id'], unique=False)
        batch_op.create_index('ix_money_tx_shift', ['shift_id'], unique=False)



def downgrade():
    op.drop_table('money_emulator')
    with op.batch_alter_table('money_transaction', schema=None) as batch_op:
        batch_op.drop_index('ix_money_tx_invoice')
        batch_op.drop_index('ix_money_tx_shift')
        batch_op.drop_index('ix_money_tx_line')
        batch_op.drop_index('ix_money_tx_branch_date')
        batch_op.drop_index('ix_money_tx_account')

    op.drop_table('money_transaction')
    with op.batch_alter_table('money_receipt', schema=None) as batch_op:
        batch_op.drop_index('ix_money_receipt_shift')

    op.drop_table('money_receipt')
    with op.batch_alter_table('money_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_money_account_patient_id'))
        batch_op.drop_index(batch_op.f('ix_money_account_organisation_id'))
        batch_op.drop_index('ix_money_account_branch_kind')

    op.drop_table('money_account')
    with op.batch_alter_table('money_shift', schema=None) as batch_op:
        batch_op.drop_index('ix_money_shift_register_state')

    op.drop_table('money_shift')
    with op.batch_alter_table('money_register', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_money_register_branch_id'))

    op.drop_table('money_register')
    op.drop_table('money_chain_head')
    op.drop_table('money_chain')
