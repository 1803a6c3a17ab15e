"""Rules of payers' contracts, their programmes and instalments, and patients."""
