"""Business rules and state transitions. Services never commit: the request's session does."""
