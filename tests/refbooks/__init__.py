"""Tests of reference books and the price list."""
