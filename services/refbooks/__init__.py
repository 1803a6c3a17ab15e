"""Rules of reference books and the price list."""
