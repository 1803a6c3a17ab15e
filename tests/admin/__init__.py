"""Tests of administration: roles, the org tree, the journal, parameters."""
