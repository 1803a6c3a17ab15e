"""Distinct patients of calendar months and years (models.rollups.PatientPeriod and
PeriodPatients, services.stat_periods), filled from the vouchers already stored.

Revision ID: 0022_stat_periods
Revises: 0021_bulk
Create Date: 2026-12-07 11:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022_stat_periods'
down_revision = '0021_bulk'
branch_labels = None
depends_on = None


def _key():
    return [sa.Column('unit_id', sa.Integer(), nullable=False),
            sa.Column('subtree', sa.Boolean(), nullable=False),
            sa.Column('kind', sa.String(length=5), nullable=False),
            sa.Column('period_start', sa.Date(), nullable=False)]


def upgrade():
    op.create_table(
        'stat_patient_period',
        *_key(),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('visits', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['patient_id'], ['pat_patient.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('unit_id', 'subtree', 'kind', 'period_start', 'patient_id'),
    )
    op.create_table(
        'stat_period_patients',
        *_key(),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('patients', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['org_unit.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('unit_id', 'subtree', 'kind', 'period_start', 'first_day'),
    )
    # The vouchers stored before: the same statements as `flask uchet rollups rebuild`.
    # A deploy step, not a request: at 10M voucher lines a statement runs for minutes,
    # past the requests' statement_timeout (config.py), for this transaction only.
    from services.stat_periods import rebuild_statements

    if op.get_bind().dialect.name == 'postgresql':
        op.execute('SET LOCAL statement_timeout = 0')

    for statement in rebuild_statements():
        op.execute(statement)


def downgrade():
    op.drop_table('stat_period_patients')
    op.drop_table('stat_patient_period')
