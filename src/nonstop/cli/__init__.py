"""The `nonstop` command line (typer)."""
