"""Venues: where the engine gets market data and sends orders (sim, replay, polymarket)."""
