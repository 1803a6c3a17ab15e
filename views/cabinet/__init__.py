"""Screens of the client cabinet and the manager's side of it."""
