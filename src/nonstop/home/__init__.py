"""The home directory: one per bot; paths, static config, and `nonstop init`."""

from nonstop.home.paths import Home

__all__ = ["Home"]
