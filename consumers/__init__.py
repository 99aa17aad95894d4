"""The pipeline: Kafka source, micro-batching, the batch pipeline, dead letters, the loop
(the Redis sink it writes through is ``sentimon.store.sink``)."""
