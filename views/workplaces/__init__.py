"""The home page's panels: each role's home is built from the panels its rights allow."""
