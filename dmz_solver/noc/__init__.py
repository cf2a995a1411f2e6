"""On-chip networks: the PE array, its groups and per-role networks, and the communication costs they imply."""
