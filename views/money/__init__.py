"""Money screens (empty yet): payments, cash desks, invoices go here."""
