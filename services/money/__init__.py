"""Money (empty yet): payments, cash desks, invoices and settlements with payers go
here, on top of `services.vouchers` and `services.contracts`."""
