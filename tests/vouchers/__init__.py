"""Tests of vouchers, their lines and prepaid vouchers."""
