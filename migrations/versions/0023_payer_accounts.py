"""Personal accounts of insurers and of individuals under a contract: a bank payment
of an invoice to an insurer (DMS) or to a person under a contract passes through the
payer's account, as an organisation's does.

Revision ID: 0023_payer_accounts
Revises: 0022_stat_periods
Create Date: 2026-12-07 11:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023_payer_accounts'
down_revision = '0022_stat_periods'
branch_labels = None
depends_on = None

OLD_KINDS = "kind IN ('patient', 'organisation')"
OLD_HOLDER = ("(kind = 'patient' AND patient_id IS NOT NULL AND organisation_id IS NULL)"
              " OR (kind = 'organisation' AND organisation_id IS NOT NULL"
              " AND patient_id IS NULL)")
NEW_KINDS = "kind IN ('patient', 'organisation', 'insurer', 'individual')"
HOLDERS = {"patient": "patient_id", "organisation": "organisation_id",
           "insurer": "insurer_id", "individual": "individual_id"}
# Written out (not imported from the models): a migration keeps the schema of its day.
NEW_HOLDER = " OR ".join(
    f"(kind = '{kind}' AND " + " AND ".join(
        f"{column} IS {'NOT ' if own == kind else ''}NULL" for own, column in HOLDERS.items())
    + ")" for kind in HOLDERS)


def upgrade():
    with op.batch_alter_table('money_account') as batch:
        batch.drop_constraint('ck_money_account_holder', type_='check')
        batch.drop_constraint('ck_money_account_kind', type_='check')
        batch.add_column(sa.Column('insurer_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('individual_id', sa.Integer(), nullable=True))
        batch.create_foreign_key('fk_money_account_insurer_id', 'ctr_insurer',
                                 ['insurer_id'], ['id'], ondelete='RESTRICT')
        batch.create_foreign_key('fk_money_account_individual_id', 'ctr_individual',
                                 ['individual_id'], ['id'], ondelete='RESTRICT')
        batch.create_unique_constraint('uq_money_account_insurer', ['branch_id', 'insurer_id'])
        batch.create_unique_constraint('uq_money_account_individual',
                                       ['branch_id', 'individual_id'])
        batch.create_index('ix_money_account_insurer_id', ['insurer_id'])
        batch.create_index('ix_money_account_individual_id', ['individual_id'])
        batch.create_check_constraint('ck_money_account_kind', NEW_KINDS)
        batch.create_check_constraint('ck_money_account_holder', NEW_HOLDER)


def downgrade():
    # Accounts of insurers and individuals cannot be kept by the old schema.
    op.execute("DELETE FROM money_account WHERE kind IN ('insurer', 'individual') "
               "AND NOT EXISTS (SELECT 1 FROM money_transaction t "
               "WHERE t.account_id = money_account.id)")
    with op.batch_alter_table('money_account') as batch:
        batch.drop_constraint('ck_money_account_holder', type_='check')
        batch.drop_constraint('ck_money_account_kind', type_='check')
        batch.drop_index('ix_money_account_individual_id')
        batch.drop_index('ix_money_account_insurer_id')
        batch.drop_constraint('uq_money_account_individual', type_='unique')
        batch.drop_constraint('uq_money_account_insurer', type_='unique')
        batch.drop_constraint('fk_money_account_individual_id', type_='foreignkey')
        batch.drop_constraint('fk_money_account_insurer_id', type_='foreignkey')
        batch.drop_column('individual_id')
        batch.drop_column('insurer_id')
        batch.create_check_constraint('ck_money_account_kind', OLD_KINDS)
        batch.create_check_constraint('ck_money_account_holder', OLD_HOLDER)
