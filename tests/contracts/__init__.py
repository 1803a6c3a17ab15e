"""Tests of contracts, programmes, instalments and patients."""
