"""nonstop: a live trading engine that never stops to learn."""

__version__ = "0.1.0"
