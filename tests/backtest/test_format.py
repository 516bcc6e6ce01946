"""The market-data format through its public doors: the writer, the reader, and the replay venue."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from nonstop.errors import UserError
from nonstop.markets import MarketInfo, Outcome
from nonstop.venues.base import (Book, BookUpdate, Fill, Level, MarketListed, OracleTick, Resolution, Side, SpotTick,
                                 TradePrint)
from nonstop.venues.replay import FORMAT_VERSION, MarketDataReader, MarketDataWriter, ReplayVenue, decode_frame

INFO = MarketInfo("btc-updown-5m-1793577600", "BTC", "5m", 1793577600, 1793577900, "111", "222",
                  price_to_beat=90123.45)
EVENTS = [MarketListed(INFO), SpotTick("BTC", 90200.12, 1793577600.0), OracleTick("BTC", 90150.5, 1793577599.0),
          BookUpdate(Book("111", (Level(0.53, 120.5), Level(0.52, 300.0)), (Level(0.55, 80.25),), 1793577600.05)),
          BookUpdate(Book("222", (), (Level(0.1 + 0.2, 1e-3),), 1793577600.05)),
          TradePrint("111", 0.55, 12.34, Side.BUY, 1793577600.0),
          Resolution(INFO.slug, Outcome.UP, 1793577900.0, 90300.0, 90123.45)]


def test_what_is_written_is_read_back_bit_for_bit(tmp_path: Path) -> None:
    path = tmp_path / "a.nmd.gz"
    with MarketDataWriter(path, source="test", start_time=1793577600.0, meta={"note": "unit"}) as writer:
        assert not path.exists() and writer.partial.exists()  # published only when closed
        writer.write(1793577600.0, EVENTS[:3])
        writer.write(1793577600.0, EVENTS[3:6])  # same receive time: merged into one frame
        writer.write(1793577901.0, EVENTS[6:])
    reader = MarketDataReader(path)
    assert reader.header.version == FORMAT_VERSION and reader.header.meta == {"note": "unit"}
    frames = list(reader.frames_iter())
    assert [f["t"] for f in frames] == [1793577600.0, 1793577901.0]
    assert decode_frame(frames[0]) + decode_frame(frames[1]) == EVENTS
    lines = gzip.decompress(path.read_bytes()).decode().splitlines()
    assert json.loads(lines[0])["format"] == "nonstop-market-data"
    assert json.loads(lines[-1]) == {"end": {"frames": 2, "events": 7, "last_t": 1793577901.0}}


def test_the_writer_refuses_account_events_and_time_going_back(tmp_path: Path) -> None:
    writer = MarketDataWriter(tmp_path / "b.nmd.gz")
    with pytest.raises(TypeError, match="account data"):
        writer.write(1.0, [Fill("f", "c", INFO.slug, "111", Outcome.UP, Side.BUY, 0.5, 5, 0.1, 1.0)])
    writer.write(5.0, EVENTS[1:2])
    with pytest.raises(ValueError, match="time order"):
        writer.write(4.0, EVENTS[1:2])
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_a_newer_version_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "future.nmd.gz"
    path.write_bytes(gzip.compress(b'{"format":"nonstop-market-data","version":99}\n{"end":{"frames":0}}\n'))
    with pytest.raises(UserError, match="version 99.*upgrade nonstop"):
        MarketDataReader(path)


def test_the_replay_venue_releases_frames_by_receive_time(tmp_path: Path) -> None:
    path = tmp_path / "c.nmd.gz"
    with MarketDataWriter(path, start_time=1793577600.0) as writer:
        writer.write(1793577600.0, EVENTS[:6])
        writer.write(1793577901.0, EVENTS[6:])
    venue = ReplayVenue([path])
    assert venue.start_time == 1793577600.0
    first = venue.poll(1793577600.0)
    assert {type(e).__name__ for e in first} == {"MarketListed", "SpotTick", "OracleTick", "BookUpdate", "TradePrint"}
    book = venue.book("111")
    assert book is not None and book.best_ask == 0.55 and book.bids[1] == Level(0.52, 300.0)
    assert venue.poll(1793577900.0) == [] and not venue.done
    assert venue.poll(1793577901.0) == [EVENTS[6]] and venue.done


def test_books_superseded_within_a_frame_are_kept_and_counted(tmp_path: Path) -> None:
    """Version 2 keeps the latest book of each token in the frame and the earlier ones on a line of their
    own: every record is still read back, in the recorded order, and counted by the replay."""
    books = [BookUpdate(Book(token, ((Level(p, 10.0),)), (Level(p + 0.02, 5.0),), ts))
             for token, p, ts in (("111", 0.50, 1.0), ("222", 0.48, 1.0), ("111", 0.51, 1.05),
                                  ("111", 0.52, 1.1), ("222", 0.47, 1.1))]
    for version in (1, FORMAT_VERSION):
        path = tmp_path / f"v{version}.nmd.gz"
        with MarketDataWriter(path, start_time=1.0, version=version) as writer:
            writer.write(1.0, [MarketListed(INFO), *books])
            writer.write(2.0, [books[0]])
        reader = MarketDataReader(path)
        assert reader.header.version == version
        frames = list(reader.frames_iter())
        assert decode_frame(frames[0]) == [MarketListed(INFO), *books] and decode_frame(frames[1]) == [books[0]]
        lines = gzip.decompress(path.read_bytes()).splitlines()
        assert len(lines) == (5 if version == 2 else 4)  # version 2: the three superseded books on their own line
        venue = ReplayVenue([path])
        released = [e for e in venue.poll(1.0) if isinstance(e, BookUpdate)]
        assert [e.book for e in released] == [books[3].book, books[4].book]  # the latest of each token
        assert venue.books_read == 5 and venue.events == 6
