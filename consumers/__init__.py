"""Consumers: Kafka source, micro-batching, the batch pipeline and the Redis sink."""
