"""Owners of durable trading state: positions and orders, the journal, rate limits."""
