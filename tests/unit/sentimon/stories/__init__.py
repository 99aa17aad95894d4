"""Unit tests of story detection (sentimon.stories)."""
