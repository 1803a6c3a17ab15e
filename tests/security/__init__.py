"""Tests of the rights machinery: catalogue, presets, scopes, policies."""
