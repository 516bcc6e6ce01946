"""`python -m nonstop` is `nonstop`."""

from nonstop.cli.main import app

app()
