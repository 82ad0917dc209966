"""The change feed, read side: a partner's events, oldest first, and their retention."""
