"""Which companies a post is about: the universe, linking, relevance (pure)."""
