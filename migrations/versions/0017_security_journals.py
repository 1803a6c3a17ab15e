"""The security journals: security events (sign-ins, passwords, rights) and reads
of patients' data; users' TOTP second factor.

Revision ID: 0017_security_journals
Revises: 0016_rollups
Create Date: 2026-12-07 02:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_security_journals'
down_revision = '0016_rollups'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'security_event',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(length=128), nullable=False),
        sa.Column('target_user_id', sa.Integer(), nullable=True),
        sa.Column('target', sa.String(length=200), nullable=True),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.Column('detail', sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_security_event_at', 'security_event', ['at'])
    op.create_index('ix_security_event_user', 'security_event', ['user_id', 'at'])
    op.create_index('ix_security_event_target', 'security_event', ['target_user_id', 'at'])
    op.create_table(
        'patient_access',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('username', sa.String(length=128), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=20), nullable=False),
        sa.Column('screen', sa.String(length=100), nullable=False),
        sa.Column('address', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_patient_access_patient', 'patient_access', ['patient_id', 'at'])
    op.create_index('ix_patient_access_user', 'patient_access', ['user_id', 'at'])
    op.create_table(
        'user_totp',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('secret', sa.String(length=255), nullable=False),
        sa.Column('recovery', sa.Text(), nullable=True),
        sa.Column('enrolled_at', sa.DateTime(timezone=True), server_default=sa.func.now(),
                  nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['ab_user.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )


def downgrade():
    op.drop_table('user_totp')
    op.drop_index('ix_patient_access_user', table_name='patient_access')
    op.drop_index('ix_patient_access_patient', table_name='patient_access')
    op.drop_table('patient_access')
    op.drop_index('ix_security_event_target', table_name='security_event')
    op.drop_index('ix_security_event_user', table_name='security_event')
    op.drop_index('ix_security_event_at', table_name='security_event')
    op.drop_table('security_event')
