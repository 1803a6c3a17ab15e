"""Tests of the client cabinet."""
