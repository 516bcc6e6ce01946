"""Mission Control: the web control plane. Writes control.json, reads status.json; never talks to the bot."""

from nonstop.mission_control.app import create_app

__all__ = ["create_app"]
