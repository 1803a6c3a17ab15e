"""Business rules. Each public service function is one unit of work."""
