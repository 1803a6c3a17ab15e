"""Administration rules: roles and rights, the org tree, the journal, parameters."""
