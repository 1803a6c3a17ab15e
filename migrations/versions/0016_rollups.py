"""Statistics rollups: per referring office and day, per office, day and patient,
per branch and day (models.rollups), filled from the vouchers already stored; the
users' rights token (security.rights_cache).

Revision ID: 0016_rollups
Revises: 0010
Create Date: 2026-12-07 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_rollups'
down_revision = '0014_rights_history'
branch_labels = None
depends_on = None



def _figures():
    return [sa.Column('visits', sa.Integer(), nullable=False),
            sa.Column('patients', sa.Integer(), nullable=False),
            sa.Column('tests', sa.Integer(), nullable=False),
            sa.Column('cost', sa.Numeric(16, 2), nullable=False)]


def upgrade():
    op.create_table(
        'stat_office_day',
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        *_figures(),
        sa.ForeignKeyConstraint(['office_id'], ['org_unit.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('office_id', 'day'),
    )
    op.create_table(
        'stat_office_patient_day',
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('visits', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['office_id'], ['org_unit.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['patient_id'], ['pat_patient.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('office_id', 'day', 'patient_id'),
    )
    op.create_table(
        'stat_branch_day',
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        *_figures(),
        sa.ForeignKeyConstraint(['branch_id'], ['org_unit.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('branch_id', 'day'),
    )
    # The users' rights token (security.rights_cache); 0: nothing cached yet.
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rights_epoch', sa.BigInteger(), server_default='0',
                                      nullable=False))
    # The vouchers stored before: the same statements as `flask uchet rollups rebuild`.
    from services.rollups import rebuild_statements

    for statement in rebuild_statements():
        op.execute(statement)


def downgrade():
    with op.batch_alter_table('ab_user', schema=None) as batch_op:
        batch_op.drop_column('rights_epoch')
    op.drop_table('stat_branch_day')
    op.drop_table('stat_office_patient_day')
    op.drop_table('stat_office_day')
