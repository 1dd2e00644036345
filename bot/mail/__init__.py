"""Mail in and out: parsing, threading, fetching, the outbox."""
