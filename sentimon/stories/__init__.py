"""Story detection: which posts are copies of one news story (pure core)."""
