"""Screens of imports: upload, preview, apply (the price list today)."""
