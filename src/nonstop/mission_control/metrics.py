"""GET /metrics: Prometheus text built from status.json at scrape time, plus Mission Control's own counters.

One registry per app (not the process-global one), so several apps in one test process never collide.
"""

from __future__ import annotations

from typing import Any, Iterator

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from nonstop.mission_control.bot_status import StatusSource

router = APIRouter(tags=["metrics"])

_MODES = ("ACTIVE", "PAUSED", "REDUCE_ONLY", "HALTED")
_HEALTH = ("up", "late", "down", "no status")


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


class StatusCollector:
    """Turns the latest status.json into metric families on each scrape."""

    def __init__(self, source: StatusSource) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        health = self.source.health()
        up = GaugeMetricFamily("nonstop_bot_health", "1 for the bot's current heartbeat state", labels=["state"])
        for state in _HEALTH:
            up.add_metric([state], 1.0 if health.bot == state else 0.0)
        yield up
        doc = self.source.read()
        if doc is None:
            return
        yield from self._bot(doc, health.heartbeat_age_s)

    def _bot(self, doc: dict[str, Any], age: float | None) -> Iterator[Metric]:
        hb, tot, ctl = doc.get("heartbeat", {}), doc.get("totals", {}), doc.get("control", {})
        if age is not None:
            yield _gauge("nonstop_heartbeat_age_seconds", "wall seconds since the bot's last status.json", age)
        yield _gauge("nonstop_cycle_time_ms", "duration of the bot's last cycle", hb.get("cycle_ms", 0.0))
        yield _gauge("nonstop_status_write_ms", "building and writing the bot's last status.json",
                     hb.get("status_ms", 0.0))
        yield CounterMetricFamily("nonstop_cycles", "cycles run by the bot process", value=hb.get("cycle", 0))
        yield _gauge("nonstop_control_revision_applied", "control.json revision the bot applies",
                     ctl.get("applied_revision", 0))
        mode = GaugeMetricFamily("nonstop_mode", "1 for the bot's current mode", labels=["mode"])
        for m in _MODES:
            mode.add_metric([m], 1.0 if ctl.get("mode") == m else 0.0)
        yield mode
        yield _gauge("nonstop_control_refused", "1 while the bot refuses the latest control.json",
                     1.0 if ctl.get("refused") else 0.0)
        for key, help_text in (("realized_pnl", "realized P&L, USD"), ("daily_pnl", "today's realized P&L, USD"),
                               ("equity", "cash plus open cost, USD"), ("cash", "cash, USD"),
                               ("fees", "fees paid, USD")):
            yield _gauge(f"nonstop_{key}_usd", help_text, float(tot.get(key, 0.0)))
        for key in ("trades", "wins", "orders", "fills"):
            yield CounterMetricFamily(f"nonstop_{key}", f"{key} since the bot started", value=tot.get(key, 0))
        yield from self._strategies(doc)
        yield from self._errors_and_limits(doc)

    def _strategies(self, doc: dict[str, Any]) -> Iterator[Metric]:
        gen = GaugeMetricFamily("nonstop_strategy_generation", "live generation of each strategy module",
                                labels=["strategy"])
        reloads = CounterMetricFamily("nonstop_strategy_reloads", "generations loaded after the first",
                                      labels=["strategy"])
        failed = GaugeMetricFamily("nonstop_strategy_failed", "1 when the module's last reload or decide failed",
                                   labels=["strategy"])
        for s in doc.get("strategies", []):
            gen.add_metric([s["name"]], s.get("generation", 0))
            reloads.add_metric([s["name"]], max(0, s.get("generation", 1) - 1))
            failed.add_metric([s["name"]], 1.0 if s.get("last_failure") else 0.0)
        yield from (gen, reloads, failed)

    def _errors_and_limits(self, doc: dict[str, Any]) -> Iterator[Metric]:
        errors = CounterMetricFamily("nonstop_slot_errors", "strategy errors per slot", labels=["slot"])
        for slot in doc.get("slots", []):
            errors.add_metric([slot["id"]], slot.get("errors", 0))
        yield errors
        yield _gauge("nonstop_recent_errors", "errors in status.json's recent list", len(doc.get("errors", [])))
        budget = GaugeMetricFamily("nonstop_rate_limit", "rate-limit budgets per endpoint",
                                   labels=["endpoint", "field"])
        for endpoint, fields in (doc.get("rate_limits") or {}).items():
            for field, value in (fields or {}).items():
                if isinstance(value, (int, float)):
                    budget.add_metric([endpoint, field], float(value))
        yield budget


class Metrics:
    """The app's registry: bot figures collected at scrape time, and counts of control writes."""

    def __init__(self, source: StatusSource) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(StatusCollector(source))  # type: ignore[arg-type]
        self.writes = Counter("mission_control_control_writes", "control.json writes by endpoint and result",
                              ["endpoint", "result"], registry=self.registry)

    def write_done(self, endpoint: str, result: str) -> None:
        # Label by route template, not raw path, so an asset or strategy name cannot grow the label set.
        self.writes.labels(_route_family(endpoint), result).inc()


def _route_family(path: str) -> str:
    parts = path.strip("/").split("/")
    if len(parts) >= 3 and parts[1] in ("assets", "strategies"):
        return "/" + "/".join(parts[:2]) + "/*"
    return path


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    """Prometheus text: cycle time, heartbeat age, reloads, errors, P&L, rate-limit budgets."""
    data = generate_latest(request.app.state.metrics.registry)
    return Response(data, media_type=CONTENT_TYPE_LATEST)
