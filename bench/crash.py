"""Crash test: SIGKILL the bot at random moments while it trades against `nonstop sim-exchange`.

    python bench/crash.py [--kills 200] [--seed 7] [--speed 20] [--share-trading 0.6] [--spawn]

A `nonstop sim-exchange` runs as its own process (the venue keeps its state). The bot runs
`nonstop run --venue polymarket --live` against it with a strategy that trades every few
seconds (takers, resting makers, sells), and is killed with SIGKILL, then started again;
downtime is random too. A share of the kills wait until the life has run its first cycle
and then strike at a random moment while it trades (mid-cycle, mid-commit, between an
order's intent and its POST); the others strike at any moment from the start (importing,
opening the journal, replaying, reconciling, resending).
Each life is a fresh process forked from a parent that only imported the code (skip the
import cost), or with `--spawn` a plain `python -m nonstop run` (slower, same result).

At the end the bot is paused, run cleanly until its windows resolve, and the venue's own
records are compared with the journal:
- duplicate_orders: orders the venue holds for the account beyond one per client id;
- lost_fills: venue fills (legs of the account's trades) missing from the journal (and
  phantom_fills: journal fills the venue never made);
- position_mismatches: tokens whose venue balance differs from the journal's positions;
- pnl_difference: the bot's cash change minus the venue's collateral change.
Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.crash_venue import VenueAccount, start_fake  # noqa: E402
from nonstop.home.init import init_home  # noqa: E402
from nonstop.state.journal import read_fills, read_orders, read_positions, read_trades  # noqa: E402

CHURN = ROOT / "tests" / "state" / "churn.py"
KEY = "0x" + "5e" * 32
START_CASH = 1000.0


def make_home(root: Path, every: int) -> Path:
    init_home(root, 7)
    (root / "strategies" / "churn.py").write_text(CHURN.read_text())
    text = (root / "nonstop.toml").read_text()
    head = text[: text.index("[sim]")].replace('venue = "sim"', 'venue = "polymarket"')
    slots = "".join(f'[[slot]]\nid = "churn-{a.lower()}"\nmodule = "churn"\nclass = "Churn"\nasset = "{a}"\n'
                    f'timeframe = "5m"\nparams = {{ every = {every} }}\n\n' for a in ("BTC", "ETH"))
    (root / "nonstop.toml").write_text(head + slots)
    return root


class Bot:
    """Starts `nonstop run` lives: forked from a warm parent, or spawned."""

    def __init__(self, home: Path, env: dict[str, str], spawn: bool, logs: Path) -> None:
        self.home, self.env, self.spawn, self.logs = home, env, spawn, logs
        self.args = ["run", "--home", str(home), "--venue", "polymarket", "--live", "--duration", "365d"]
        self.lives = 0
        if not spawn:  # pay the import cost once, before any fork
            import nonstop.cli.main  # noqa: F401
            import nonstop.venues.polymarket.venue  # noqa: F401

    def start(self) -> int:
        self.lives += 1
        log = self.logs / f"life-{self.lives:04d}.log"
        if self.spawn:
            with open(log, "w") as out:
                proc = subprocess.Popen([sys.executable, "-m", "nonstop", *self.args], stdout=out, stderr=out,
                                        env={**os.environ, **self.env}, cwd=str(ROOT))
            return proc.pid
        pid = os.fork()
        if pid == 0:  # the child: a fresh bot process
            code = 1
            try:
                fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                os.environ.update(self.env)
                from nonstop.cli.main import app

                app(self.args, prog_name="nonstop")
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            finally:
                os._exit(code)
        return pid


def wait_exit(pid: int, timeout: float) -> int | None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.05)
    return None


def wait_trading(pid: int, home: Path, timeout: float) -> int | None:
    """Until the life `pid` has run a cycle (its pid in status.json); its exit code if it exited."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and last_pid(home) != pid:
        code = wait_exit(pid, 0.02)
        if code is not None:
            return code
    return None


def last_recovery(home: Path, pid: int) -> dict[str, Any] | None:
    try:
        doc = json.loads((home / "status.json").read_text())
    except (OSError, ValueError):
        return None
    return doc.get("extra", {}).get("recovery") if doc["heartbeat"]["pid"] == pid else None


def last_pid(home: Path) -> int | None:
    try:
        return int(json.loads((home / "status.json").read_text())["heartbeat"]["pid"])
    except (OSError, ValueError, KeyError):
        return None


def ok(r: dict[str, Any]) -> bool:
    return (r["duplicate_orders"] == 0 and r["lost_fills"] == 0 and r["phantom_fills"] == 0
            and r["position_mismatches"] == 0 and abs(r["pnl_difference"]) < 1e-3 and r["pnl_adds_up"])


def tail(path: Path) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-15:]) if path.exists() else ""


def settle(bot: Bot, home: Path, account: VenueAccount, timeout: float) -> None:
    """Pause, run one clean life until nothing is open (orders resolved, windows paid), stop it."""
    subprocess.run([sys.executable, "-m", "nonstop", "ctl", "--home", str(home), "pause"], check=True,
                   capture_output=True, cwd=str(ROOT))
    pid = bot.start()
    end = time.monotonic() + timeout
    try:
        while time.monotonic() < end:
            time.sleep(1.0)
            if wait_exit(pid, 0) is not None:
                raise SystemExit(f"the final life exited by itself:\n{tail(bot.logs / f'life-{bot.lives:04d}.log')}")
            open_orders = [o for o in read_orders(home, None, open_only=True)]
            if not read_positions(home) and not open_orders and not account.state()["open_orders"] \
                    and account.unsettled() == 0:
                return
        raise SystemExit(f"not settled after {timeout:.0f}s: positions {read_positions(home)[:3]}")
    finally:
        os.kill(pid, signal.SIGTERM)
        if wait_exit(pid, 30) is None:
            os.kill(pid, signal.SIGKILL)
            wait_exit(pid, 5)


def store_ids(home: Path) -> dict[str, str]:
    """client id -> CLOB order id, from the adapter's own order store (written before each POST)."""
    path = home / "polymarket-orders.sqlite"
    if not path.exists():
        return {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return dict(db.execute("SELECT client_id, order_id FROM orders"))


def measure(home: Path, account: VenueAccount, kills: int, wall: float) -> dict[str, Any]:
    orders = read_orders(home, None)
    journal_fills = {f["fill_id"] for f in read_fills(home, None)}
    venue_fills = account.fill_ids()
    ids = store_ids(home)
    at_venue = {cid: oid for cid, oid in ids.items() if account.has_order(oid)}
    state = account.state()
    tokens = {t: q for t, q in state["tokens"].items() if abs(q) > 1e-9}
    mine = {(o["window"], o["outcome"]): o["token_id"] for o in orders}
    held: dict[str, float] = {}
    for p in read_positions(home):
        for outcome, shares in (("Up", p["up_shares"]), ("Down", p["down_shares"])):
            token = mine.get((p["window"], outcome))
            if token and abs(shares) > 1e-9:
                held[token] = held.get(token, 0.0) + shares
    mismatched = [t for t in set(held) | set(tokens) if abs(held.get(t, 0.0) - tokens.get(t, 0.0)) > 1e-6]
    status = json.loads((home / "status.json").read_text())
    trades = read_trades(home, None)
    history = [h["reason"] for o in orders for h in o["history"]]
    return {
        "kills": kills,
        "orders": len(orders),
        "venue_orders": state["orders"],
        "fills": len(venue_fills),
        "trades": len(trades),
        "duplicate_orders": state["orders"] - len(at_venue) + (len(at_venue) - len(set(at_venue.values()))),
        "lost_fills": len(venue_fills - journal_fills),
        "phantom_fills": len(journal_fills - venue_fills),
        "position_mismatches": len(mismatched),
        "pnl_difference": round((status["totals"]["cash"] - START_CASH) - (state["collateral"] - account.start), 6),
        "realized_pnl": status["totals"]["realized_pnl"],
        "pnl_adds_up": abs(status["totals"]["realized_pnl"] - sum(t["pnl"] for t in trades)) < 1e-3,
        "resent_after_restart": sum(r.startswith("resent after restart") for r in history),
        "abandoned_after_restart": sum(r.startswith("abandoned after restart") for r in history),
        "wall_s": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--speed", type=float, default=20.0, help="the fake's venue seconds per wall second")
    parser.add_argument("--anywhere", default="0.1:2.5",
                        help="wall seconds from start to SIGKILL (min:max) for a kill at any moment")
    parser.add_argument("--trading", default="0:1.5",
                        help="wall seconds after its first cycle (min:max) for a kill while trading")
    parser.add_argument("--share-trading", type=float, default=0.6, help="share of kills made while trading")
    parser.add_argument("--down", type=float, default=0.5, help="max wall seconds the bot stays down")
    parser.add_argument("--every", type=int, default=2, help="the strategy trades every N venue seconds")
    parser.add_argument("--spawn", action="store_true", help="start each life as a new python (no fork)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    anywhere = tuple(float(x) for x in args.anywhere.split(":"))
    while_trading = tuple(float(x) for x in args.trading.split(":"))
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="nonstop-crash-"))
    (work / "logs").mkdir()
    home = make_home(work / "home", args.every)
    fake = start_fake(args.seed, args.speed)
    t0 = time.monotonic()
    try:
        env = {"NONSTOP_POLYMARKET_HOST": fake.url, "NONSTOP_POLYMARKET_CLOCK": "server",
               "NONSTOP_POLYMARKET_PRIVATE_KEY": KEY, "NONSTOP_POLYMARKET_HEARTBEAT_EVERY_S": "1",
               "NONSTOP_POLYMARKET_DISCOVERY_EVERY_S": "1"}
        account = VenueAccount(fake.url, KEY)
        bot = Bot(home, env, args.spawn, work / "logs")
        kills = trading = 0
        startups: list[float] = []
        recoveries: list[dict[str, Any]] = []
        while kills < args.kills:
            pid = bot.start()
            if rng.random() < args.share_trading:  # let it start, recover and trade, then kill it
                t_start = time.monotonic()
                code = wait_trading(pid, home, 60.0)
                startups.append(time.monotonic() - t_start)
                code = code if code is not None else wait_exit(pid, rng.uniform(*while_trading))
            else:  # anywhere: importing, opening the journal, replaying, reconciling, trading
                code = wait_exit(pid, rng.uniform(*anywhere))
            if code is not None:  # it stopped by itself: that is a failure of the bot, show why
                raise SystemExit(f"life {bot.lives} exited with {code} before its kill:\n"
                                 f"{tail(work / 'logs' / f'life-{bot.lives:04d}.log')}")
            recovery = last_recovery(home, pid)
            if recovery:
                recoveries.append(recovery)
            os.kill(pid, signal.SIGKILL)
            wait_exit(pid, 10)
            kills += 1
            trading += last_pid(home) == pid  # it had run at least one cycle (status.json is its)
            if kills % 25 == 0:
                print(f"{kills} kills, {len(read_orders(home, None))} orders journaled", flush=True)
            time.sleep(rng.uniform(0, args.down))
        t_settle = time.monotonic()
        settle(bot, home, account, timeout=180)
        t_settle = time.monotonic() - t_settle
        result = measure(home, account, kills, time.monotonic() - t0)
        result["kills_while_trading"] = trading
        result["startup_s_median"] = round(sorted(startups)[len(startups) // 2], 2) if startups else None
        result["settle_s"] = round(t_settle, 1)
        secs = sorted(r["seconds"] for r in recoveries)
        result["recovery_s_median"] = secs[len(secs) // 2] if secs else None
        result["recovery_s_max"] = secs[-1] if secs else None
    finally:
        fake.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(f"work folder: {work}" if args.keep else "no duplicate order, no lost fill, positions and P&L as the "
          "venue's" if ok(result) else "FAILED: see the figures below", flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
