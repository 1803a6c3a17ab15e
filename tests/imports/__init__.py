"""Tests of imports (the price list)."""
