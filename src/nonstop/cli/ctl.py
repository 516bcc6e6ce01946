"""`nonstop ctl --home HOME ...`: steer a running bot through control.json, never through the bot.

Every edit goes through ControlWriter (lock, compare-and-swap, atomic write, audit line) and
prints old -> new and the revision; `--wait` then blocks until status.json shows it applied.
"""

from __future__ import annotations

import getpass
import json
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import typer

from nonstop.cli.common import fail
from nonstop.cli.main import app
from nonstop.control import edits
from nonstop.control.explain import ControlRejected
from nonstop.control.schema import Mode
from nonstop.control.wait import wait_applied
from nonstop.control.writer import ControlWriter, WriteResult, read_audit
from nonstop.home.paths import Home
from nonstop.status.writer import read_status

ctl_app = typer.Typer(no_args_is_help=True, help="Steer a running bot through control.json (audited).")
app.add_typer(ctl_app, name="ctl")


def default_actor() -> str:
    try:
        return getpass.getuser() or "unknown"
    except (KeyError, OSError):
        return "unknown"


@dataclass
class Ctl:
    home: Home
    actor: str
    wait: bool
    timeout: float
    writer: ControlWriter


def _ctl(ctx: typer.Context) -> Ctl:
    return ctx.obj  # type: ignore[no-any-return]


@ctl_app.callback()
def main(ctx: typer.Context,
         home: Path = typer.Option(..., "--home", help="the bot's home directory"),
         actor: str = typer.Option(None, "--actor", help="who makes the change (default: the OS user)"),
         wait: bool = typer.Option(False, "--wait", help="block until status.json shows the revision applied"),
         timeout: float = typer.Option(10.0, "--timeout", help="seconds --wait waits")) -> None:
    """Steer a running bot: every command edits control.json under a lock and appends to audit.jsonl."""
    h = Home(home)
    if not h.root.is_dir():
        raise fail(f"--home: {home} is not a directory; create a home with `nonstop init {home}`")
    if timeout <= 0:
        raise fail(f"--timeout: {timeout:g}; allowed: seconds > 0")
    ctx.obj = Ctl(h, actor or default_actor(), wait, timeout, ControlWriter(h))


def _v(value: Any) -> str:
    return json.dumps(value, default=str)


def report(result: WriteResult, actor: str) -> None:
    if not result.changed:
        print(f"no change: control.json stays at revision {result.old.revision}")
        return
    for entry in result.diff[:50]:
        print(f"  {entry['path']}: {_v(entry['old'])} → {_v(entry['new'])}")
    if len(result.diff) > 50:
        print(f"  ... and {len(result.diff) - 50} more")
    print(f"revision {result.old.revision} → {result.new.revision} (by {actor})")


def _edit(ctx: typer.Context, change: edits.Change) -> None:
    c = _ctl(ctx)
    try:
        result = c.writer.update(change, actor=c.actor)
    except ControlRejected as exc:
        raise fail(str(exc)) from None
    report(result, c.actor)
    _maybe_wait(c, result.new.revision)


def _maybe_wait(c: Ctl, revision: int) -> None:
    if not c.wait:
        return
    outcome = wait_applied(c.home, revision, c.timeout)
    if not outcome.ok:
        print(f"error: --wait: {outcome.message}", file=sys.stderr)
        raise typer.Exit(1)
    print(outcome.message)


def _names(c: Ctl) -> list[str]:
    known = c.writer.known()
    return sorted(known.slots) if known else []


# -- modes -------------------------------------------------------------------------------------

@ctl_app.command()
def pause(ctx: typer.Context) -> None:
    """PAUSED: no new orders, resting orders cancelled, positions ride to resolution."""
    _edit(ctx, edits.set_mode(Mode.PAUSED))


@ctl_app.command()
def resume(ctx: typer.Context) -> None:
    """ACTIVE: trade again; also lifts a halt (the operator's, or the daily-loss breaker's)."""
    c = _ctl(ctx)
    try:
        result = c.writer.resume(actor=c.actor)
    except ControlRejected as exc:
        raise fail(str(exc)) from None
    report(result, c.actor)
    _maybe_wait(c, result.new.revision)


@ctl_app.command("reduce-only")
def reduce_only(ctx: typer.Context) -> None:
    """REDUCE_ONLY: only orders that shrink exposure; resting buys cancelled."""
    _edit(ctx, edits.set_mode(Mode.REDUCE_ONLY))


@ctl_app.command()
def halt(ctx: typer.Context, reason: str = typer.Option("halted by nonstop ctl", help="why, for the record")) -> None:
    """HALTED, the kill switch: cancel everything, refuse every order until `resume`."""
    _edit(ctx, edits.set_mode(Mode.HALTED, reason))


# -- sizing and toggles ------------------------------------------------------------------------

@ctl_app.command()
def size(ctx: typer.Context,
         order_usd: Optional[float] = typer.Option(None, "--order-usd", help="USD per order"),
         asset: Optional[str] = typer.Option(None, help="only this asset (an override)"),
         clear: bool = typer.Option(False, help="with --asset: drop the asset's override")) -> None:
    """Order size in USD, globally or for one asset."""
    if clear and asset:
        _edit(ctx, edits.unset_values([f"sizing.order_usd_per_asset.{asset}"]))
    elif order_usd is None:
        raise fail("--order-usd: missing; give USD per order, e.g. --order-usd 25 (or --asset BTC --clear)")
    elif asset:
        _edit(ctx, edits.set_values([(f"sizing.order_usd_per_asset.{asset}", order_usd)]))
    else:
        _edit(ctx, edits.set_values([("sizing.order_usd", order_usd)]))


@ctl_app.command("max-exposure")
def max_exposure(ctx: typer.Context,
                 window: Optional[float] = typer.Option(None, help="USD per window"),
                 per_asset: Optional[float] = typer.Option(None, "--per-asset", help="USD per asset (default cap, "
                                                                                     "or --asset's own)"),
                 asset: Optional[str] = typer.Option(None, help="with --per-asset/--clear: this asset only"),
                 total: Optional[float] = typer.Option(None, help="USD across everything"),
                 daily_loss: Optional[float] = typer.Option(None, "--daily-loss", help="realised loss of a UTC day "
                                                                                       "that halts the bot"),
                 clear: bool = typer.Option(False, help="with --asset: drop the asset's own cap")) -> None:
    """Exposure caps (per window, per asset, in total) and the max daily loss."""
    pairs: list[tuple[str, Any]] = []
    if window is not None:
        pairs.append(("sizing.max_exposure_window_usd", window))
    if per_asset is not None:
        key = f"sizing.max_exposure_asset_usd.{asset}" if asset else "sizing.max_exposure_asset_default_usd"
        pairs.append((key, per_asset))
    if total is not None:
        pairs.append(("sizing.max_exposure_total_usd", total))
    if daily_loss is not None:
        pairs.append(("sizing.max_daily_loss_usd", daily_loss))
    if clear and asset:
        _edit(ctx, edits.compose(edits.unset_values([f"sizing.max_exposure_asset_usd.{asset}"]),
                                 edits.set_values(pairs)))
        return
    if not pairs:
        raise fail("max-exposure: nothing given; use --window, --per-asset [--asset A], --total or --daily-loss")
    _edit(ctx, edits.set_values(pairs))


def _toggle(ctx: typer.Context, group: str, name: str, state: str) -> None:
    try:
        value = edits.parse_switch(f"toggles.{group}.{name}", state)
    except ControlRejected as exc:
        raise fail(str(exc)) from None
    _edit(ctx, edits.set_values([(f"toggles.{group}.{name}", value)], _names(_ctl(ctx))))


@ctl_app.command("asset")
def asset_cmd(ctx: typer.Context, name: str = typer.Argument(..., help="BTC, ETH, SOL, XRP, DOGE, BNB"),
              state: str = typer.Argument(..., help="on | off")) -> None:
    """Switch an asset's slots on or off (off: no new orders there, its resting orders cancelled)."""
    _toggle(ctx, "assets", name, state)


@ctl_app.command("timeframe")
def timeframe_cmd(ctx: typer.Context, name: str = typer.Argument(..., help="5m | 15m"),
                  state: str = typer.Argument(..., help="on | off")) -> None:
    """Switch a timeframe's slots on or off."""
    _toggle(ctx, "timeframes", name, state)


@ctl_app.command("slot")
def slot_cmd(ctx: typer.Context, slot_id: str = typer.Argument(..., metavar="ID", help="a [[slot]] id"),
             state: str = typer.Argument(..., help="on | off")) -> None:
    """Switch one slot on or off."""
    _toggle(ctx, "slots", slot_id, state)


# -- generic edits, requests, reading ----------------------------------------------------------

@ctl_app.command("set")
def set_cmd(ctx: typer.Context, items: list[str] = typer.Argument(..., metavar="KEY=VALUE...",
                                                                 help="e.g. sizing.order_usd=25 "
                                                                      "slot_params.snipe-btc-5m.margin=0.03")) -> None:
    """Set fields by dotted path (VALUE is JSON when it parses as JSON, text otherwise); one revision."""
    try:
        pairs = edits.parse_assignments(items)
    except ControlRejected as exc:
        raise fail(str(exc)) from None
    _edit(ctx, edits.set_values(pairs, _names(_ctl(ctx))))


@ctl_app.command("unset")
def unset_cmd(ctx: typer.Context, keys: list[str] = typer.Argument(..., metavar="KEY...")) -> None:
    """Remove keys (an override, a toggle, a slot's params); a field with a default returns to it."""
    _edit(ctx, edits.unset_values(keys, _names(_ctl(ctx))))


@ctl_app.command()
def rollback(ctx: typer.Context, strategy: str = typer.Argument(..., help="a strategy module, e.g. momentum"),
             to: Optional[int] = typer.Option(None, "--to", help="the generation (default: the previous one)")) -> None:
    """Ask the bot to reinstate an earlier generation of a strategy module."""
    c = _ctl(ctx)
    try:
        result = c.writer.request_rollback(strategy, to, actor=c.actor)
    except ControlRejected as exc:
        raise fail(str(exc)) from None
    report(result, c.actor)
    _maybe_wait(c, result.new.revision)


@ctl_app.command()
def show(ctx: typer.Context, as_json: bool = typer.Option(False, "--json", help="only the document")) -> None:
    """The control document, and what the bot last said it applied."""
    c = _ctl(ctx)
    try:
        doc = c.writer.read()
    except ControlRejected as exc:
        raise fail(f"{exc} (fix the file, or `nonstop ctl --home {c.home.root} restore`)") from None
    print(doc.model_dump_json(indent=2))
    if as_json:
        return
    status = read_status(c.home.status)
    if status is None:
        print("bot: no status.json yet (is it running?)")
        return
    ctl = status.get("control") or {}
    line = f"bot: applied revision {ctl.get('applied_revision')}, mode {ctl.get('mode')}"
    if ctl.get("halt_reason"):
        line += f" ({ctl['halt_reason']})"
    print(line)
    if ctl.get("refused"):
        print(f"bot: refused revision {ctl['refused'].get('revision')}: {ctl['refused'].get('reason')}")


@ctl_app.command()
def audit(ctx: typer.Context, tail: Optional[int] = typer.Option(None, "--tail", help="only the last N entries"),
          as_json: bool = typer.Option(False, "--json", help="one JSON object a line, as stored")) -> None:
    """Who changed what, when: audit.jsonl."""
    if tail is not None and tail < 0:
        raise fail(f"--tail: {tail}; allowed: a count >= 0")
    for entry in read_audit(_ctl(ctx).home, tail):
        if as_json:
            print(json.dumps(entry, ensure_ascii=False))
            continue
        changes = "; ".join(f"{d['path']}: {_v(d['old'])} → {_v(d['new'])}" for d in entry.get("diff", [])[:8])
        print(f"{entry.get('time')}  {entry.get('actor')}  r{entry.get('old_revision')} → "
              f"r{entry.get('new_revision')}  {changes}")


@ctl_app.command()
def restore(ctx: typer.Context) -> None:
    """Rewrite a missing or unreadable control.json: defaults, PAUSED, at a revision above any seen."""
    c = _ctl(ctx)
    status = read_status(c.home.status) or {}
    applied = (status.get("control") or {}).get("applied_revision", 0)
    try:
        result = c.writer.restore(actor=c.actor, status_revision=applied if isinstance(applied, int) else 0)
    except ControlRejected as exc:
        raise fail(str(exc)) from None
    print(f"restored control.json at revision {result.new.revision}, PAUSED: check it with `show`, then `resume`")
    _maybe_wait(c, result.new.revision)


@ctl_app.command()
def batch(ctx: typer.Context, file: str = typer.Argument(..., help="a file of ctl commands, one a line; - for "
                                                                  "stdin")) -> None:
    """Run ctl commands from a file, each its own revision (a script of edits); stops at the first error."""
    c = _ctl(ctx)
    lines = sys.stdin.read().splitlines() if file == "-" else _read_lines(file)
    group = typer.main.get_command(ctl_app)
    head = ["--home", str(c.home.root), "--actor", c.actor]
    done = 0
    for number, line in enumerate(lines, 1):
        args = shlex.split(line, comments=True)
        if not args:
            continue
        if args[0] == "batch" or args[0].startswith("--"):
            raise fail(f"{file}:{number}: {args[0]!r}: not allowed in a batch; allowed: ctl commands without "
                       f"global options")
        code = group.main(args=head + args, prog_name="nonstop ctl", standalone_mode=False)
        if code:
            raise fail(f"{file}:{number}: stopped after {done} edits")
        done += 1
    print(f"batch: {done} commands")
    if done:
        _maybe_wait(c, c.writer.read().revision)


def _read_lines(file: str) -> list[str]:
    try:
        return Path(file).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise fail(f"FILE: {file}: {exc.strerror}; give a readable file of ctl commands, or - for stdin") from None
