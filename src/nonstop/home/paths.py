"""Where each file of a home lives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Home:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "nonstop.toml"

    @property
    def control(self) -> Path:
        return self.root / "control.json"

    @property
    def status(self) -> Path:
        return self.root / "status.json"

    @property
    def audit(self) -> Path:
        return self.root / "audit.jsonl"

    @property
    def journal(self) -> Path:
        return self.root / "journal.sqlite"

    @property
    def strategies(self) -> Path:
        return self.root / "strategies"

    @property
    def generations(self) -> Path:
        return self.root / "strategies" / ".generations"

    @property
    def token(self) -> Path:
        return self.root / "mission-control.token"

    @property
    def lock(self) -> Path:
        return self.root / ".bot.lock"
