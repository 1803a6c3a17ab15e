"""Screens of vouchers, their lines and referrals."""
