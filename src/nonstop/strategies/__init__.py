"""The strategies nonstop ships; `nonstop init` copies them into HOME/strategies/, where they hot-reload."""

from pathlib import Path

BUNDLED = Path(__file__).parent
