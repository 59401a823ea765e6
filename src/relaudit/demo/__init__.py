"""The embedded demo account: a moto server on 127.0.0.1 seeded with a realistic workload."""
