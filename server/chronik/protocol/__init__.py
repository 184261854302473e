"""Sans-I/O Kafka protocol pieces: wire primitives, Construct codecs, record batches."""
