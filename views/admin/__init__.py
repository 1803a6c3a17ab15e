"""Administration screens: users, roles and rights, the org tree, journal, parameters."""
