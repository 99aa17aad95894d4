"""The Redis side: the batch write, reads, roll-ups, the client."""
