"""status.json: what the bot says about itself each cycle (written by the bot only)."""
