"""Screens of reference books, the price list and staff."""
