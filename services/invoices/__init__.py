"""Счета: invoices from rendered voucher lines (see models/invoices.py for the
lifecycle). `rules` holds the checks of the seed's «Документы / Счета» rights,
`create` makes invoices from owed lines, `lifecycle` confirms, cancels, reverses
and removes lines, `numbering` gives the numbers, `payment` is the entry point
of the payments module."""
