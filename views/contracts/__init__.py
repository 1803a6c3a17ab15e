"""Screens of payers, contracts, programmes, instalments and patients."""
