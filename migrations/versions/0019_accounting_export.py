"""Export to accounting: the export log and its files (export_log, export_chunk), and
the export code of a service (price_service.export_code_id).

Revision ID: 0019_accounting_export
Revises: 0017_security_journals
Create Date: 2026-12-07 05:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_accounting_export'
down_revision = '0017_security_journals'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('price_service') as batch:
        batch.add_column(sa.Column('export_code_id', sa.Integer(), nullable=True))
        batch.create_index('ix_price_service_export_code_id', ['export_code_id'])
        batch.create_foreign_key('fk_price_service_export_code_id', 'ref_export_code',
                                 ['export_code_id'], ['id'], ondelete='RESTRICT')
    op.create_table(
        'export_log',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(256), nullable=False),
        sa.Column('kind', sa.String(10), nullable=False),
        sa.Column('fmt', sa.String(5), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('period_from', sa.Date(), nullable=False),
        sa.Column('period_to', sa.Date(), nullable=False),
        sa.Column('final', sa.Boolean(), nullable=False),
        sa.Column('repeat_of_id', sa.Integer(), nullable=True),
        sa.Column('documents', sa.Integer(), nullable=False),
        sa.Column('lines', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Numeric(16, 2), nullable=False),
        sa.Column('checksum', sa.String(64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(255), nullable=False),
        sa.Column('job_id', sa.String(64), nullable=True),
        sa.CheckConstraint("kind IN ('cash', 'invoices')", name='ck_export_log_kind'),
        sa.CheckConstraint("fmt IN ('xml', 'xlsx')", name='ck_export_log_fmt'),
        sa.CheckConstraint('period_to >= period_from', name='ck_export_log_period'),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['branch_id'], ['org_unit.id'], ondelete='RESTRICT'),
        sa.ForeignKeyConstraint(['repeat_of_id'], ['export_log.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_export_log_user_id', 'export_log', ['user_id'])
    op.create_index('ix_export_log_period', 'export_log',
                    ['kind', 'branch_id', 'period_from', 'period_to'])
    op.create_table(
        'export_chunk',
        sa.Column('log_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['log_id'], ['export_log.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('log_id', 'seq'),
    )


def downgrade():
    op.drop_table('export_chunk')
    op.drop_index('ix_export_log_period', table_name='export_log')
    op.drop_index('ix_export_log_user_id', table_name='export_log')
    op.drop_table('export_log')
    with op.batch_alter_table('price_service') as batch:
        batch.drop_constraint('fk_price_service_export_code_id', type_='foreignkey')
        batch.drop_index('ix_price_service_export_code_id')
        batch.drop_column('export_code_id')
