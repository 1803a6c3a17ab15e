"""Money: personal accounts, payments, the cash desk and its fiscal register."""
