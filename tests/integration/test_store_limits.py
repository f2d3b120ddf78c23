"""The store's limits through the real daemon: a full disk (a small tmpfs as the
data directory, filled up and freed again), the outbox cap, and local retention."""

import datetime
import errno
import json
import os
import signal
import sqlite3
import subprocess
import time
import unittest

from harness import Rig, read_log, store_query, wait_for

DAY_MS = 86_400_000


def all_records(feed):
    """Every record received on any topic, as (suffix, record), duplicates kept."""
    out = []
    for topic, message in feed.snapshot():
        suffix = topic.rsplit("/", 1)[-1]
        if isinstance(message, dict) and isinstance(message.get(suffix), list):
            out.extend((suffix, r) for r in message[suffix])
    return out


def ms_of(rfc3339):
    t = datetime.datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp() * 1000)


def received_seqs(feed):
    return {r["seq"] for _, r in all_records(feed)}


def mount_tmpfs(path, size):
    os.makedirs(path, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path],
                          capture_output=True, text=True)
    return done.returncode == 0, done.stderr.strip()


def fill(path):
    """Writes a file in `path` until the file system has no space left."""
    filler = os.path.join(path, "filler")
    chunk = b"\0" * 65536
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise
    return filler


def daemon_running(rig):
    if rig.daemon.poll() is not None:
        raise AssertionError(f"ecmgw exited with {rig.daemon.returncode}:\n{read_log(rig.daemon)}")
    return True


class FullDiskTest(unittest.TestCase):
    """The data directory is a 16 MB tmpfs: room for the store and its WAL (up to
    1000 pages before a checkpoint), and small enough to fill in a moment."""

    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("mounting a small tmpfs needs root")
        self.rig = Rig(meters=3, interval_s=1,
                       extra_config="\n[store]\nmax_pending_readings = 100000\n")
        ok, why = mount_tmpfs(self.rig.data_dir, "16m")
        if not ok:
            self.rig.close()
            self.skipTest(f"cannot mount a tmpfs here: {why}")

    def tearDown(self):
        self.rig.close()  # stops the daemon before the mount goes away
        subprocess.run(["umount", "-l", self.rig.data_dir], check=False)

    def answers_count(self):
        with open(self.rig.answer_log) as f:
            return sum(1 for _ in f)

    def test_full_disk_keeps_polling_reports_and_loses_nothing_committed(self):
        rig = self.rig
        rig.start_daemon()
        wait_for(lambda: daemon_running(rig) and len(rig.feed.readings()) >= 30, 60,
                 "30 readings over MQTT")

        filler = fill(rig.data_dir)
        wait_for(lambda: daemon_running(rig) and "store: cannot write" in read_log(rig.daemon), 60,
                 "the daemon to find its store full")
        log = read_log(rig.daemon)
        self.assertIn("database or disk is full", log)
        # It keeps polling the meters while nothing can be stored.
        answered = self.answers_count()
        wait_for(lambda: daemon_running(rig) and self.answers_count() >= answered + 40, 60,
                 "40 more meter answers while the disk is full")
        committed = set(store_query(rig.data_dir,
                                    "SELECT meter, ts_ms, quantity, value FROM readings"))
        self.assertGreater(len(committed), 0)

        os.remove(filler)
        events = wait_for(lambda: daemon_running(rig) and rig.feed.events("store_write_failed"), 60,
                          "the store_write_failed event")
        event = events[0]
        details = event["details"]
        self.assertIn("database or disk is full", details["error"])
        self.assertLess(details["since"], details["until"])
        self.assertGreaterEqual(details["failed_attempts"], 1)
        self.assertEqual(details["readings_discarded"], 0)
        self.assertIn("store: writing again", read_log(rig.daemon))

        # Readings go on after the event, and every seq from 1 on arrives.
        wait_for(lambda: max(received_seqs(rig.feed)) >= event["seq"] + 30, 60,
                 "30 more records after the event")
        top = max(received_seqs(rig.feed))
        last = store_query(rig.data_dir, "SELECT value FROM sequence WHERE name = 'outbox'")[0][0]
        self.assertGreaterEqual(last, top)
        missing = sorted(set(range(1, top + 1)) - received_seqs(rig.feed))
        self.assertEqual(missing, [], "every seq up to the last received must arrive")

        # Nothing committed before the disk filled was lost, and the readings taken
        # while it was full (held in memory) were stored once it was freed.
        after = set(store_query(rig.data_dir, "SELECT meter, ts_ms, quantity, value FROM readings"))
        self.assertTrue(committed <= after, "readings committed before the disk filled are gone")
        since, until = ms_of(details["since"]), ms_of(details["until"])
        held = [r for r in after - committed if since <= r[1] < until - 1000]
        self.assertGreater(len(held), 0, "the readings taken while the disk was full are missing")
        published = {(r["meter"], ms_of(r["ts"]), r["quantity"]) for r in rig.feed.readings()}
        self.assertTrue({(m, ts, q) for m, ts, q, _ in held} <= published,
                        "the readings held in memory were stored but not published")
        self.assertEqual(store_query(rig.data_dir, "PRAGMA integrity_check")[0][0], "ok")
        self.assertEqual(rig.daemon.poll(), None)


class OutboxCapTest(unittest.TestCase):
    """outbox_max_mb = 1 and a backlog the broker did not take: the oldest readings
    are dropped and an event names them."""

    def setUp(self):
        self.rig = Rig(meters=2, interval_s=1, extra_config="\n[store]\noutbox_max_mb = 1\n")

    def tearDown(self):
        self.rig.close()

    def test_over_the_cap_the_oldest_readings_go_and_the_drop_is_an_event(self):
        rig = self.rig
        rig.start_daemon()
        wait_for(lambda: len(rig.feed.readings()) >= 10, 60, "first readings")
        rig.broker.stop()
        rig.daemon.send_signal(signal.SIGTERM)
        self.assertEqual(rig.daemon.wait(timeout=30), 0)

        # A backlog of 1.2 MB of readings, as months offline would leave, written the
        # way the daemon writes them: the counter moves in the same transaction.
        db = sqlite3.connect(os.path.join(rig.data_dir, "ecmgw.db"), timeout=10)
        with db:
            last = db.execute("SELECT value FROM sequence WHERE name = 'outbox'").fetchone()[0]
            pad = "p" * 100_000
            for i in range(12):
                body = json.dumps({"meter": "E-0001", "ts": "2026-01-01T00:00:00.000Z",
                                   "quantity": "backlog", "value": i, "pad": pad})
                db.execute("INSERT INTO outbox (seq, kind, body, created_ms) VALUES (?, 'reading', ?, ?)",
                           (last + 1 + i, body, int(time.time() * 1000)))
            db.execute("UPDATE sequence SET value = ? WHERE name = 'outbox'", (last + 12,))
        db.close()
        before = store_query(rig.data_dir, "SELECT bytes FROM outbox_usage")[0][0]
        self.assertGreater(before, 1 << 20)

        rig.start_daemon()
        wait_for(lambda: "over its cap" in read_log(rig.daemon), 60, "the cap to drop records")
        usage = store_query(rig.data_dir, "SELECT bytes FROM outbox_usage")[0][0]
        self.assertLessEqual(usage, 1 << 20)
        rig.broker.start()
        event = wait_for(lambda: (rig.feed.events("outbox_dropped") or [None])[0], 60,
                         "the outbox_dropped event")
        d = event["details"]
        self.assertEqual(d["kind"], "reading")
        self.assertEqual(d["cap_bytes"], 1 << 20)
        self.assertGreater(d["count"], 0)
        self.assertGreater(d["bytes"], before - (1 << 20))

        # Every seq up to the last received is either received or named by the drop.
        wait_for(lambda: max(received_seqs(rig.feed)) > event["seq"] + 10, 60,
                 "records after the drop event")
        top = max(received_seqs(rig.feed))
        got = received_seqs(rig.feed)
        dropped = set(range(d["first_seq"], d["last_seq"] + 1)) - got
        self.assertEqual(sorted(set(range(1, top + 1)) - got - dropped), [],
                         "a seq that is neither received nor named by the drop was lost")
        # A record in the range may have reached the broker just before it stopped.
        self.assertLessEqual(len(dropped), d["count"])
        # The oldest of the backlog went first, the newest arrive.
        backlog = {r["value"] for r in rig.feed.readings() if r.get("quantity") == "backlog"}
        self.assertTrue(0 < len(backlog) < 12)
        self.assertEqual(backlog, set(range(12 - len(backlog), 12)))


class RetentionTest(unittest.TestCase):
    def setUp(self):
        self.rig = Rig(meters=2, interval_s=1, extra_config="\n[store]\nretention_days = 30\n")

    def tearDown(self):
        self.rig.close()

    def test_old_acknowledged_readings_and_events_are_pruned_but_not_the_ledger(self):
        rig = self.rig
        rig.start_daemon()
        wait_for(lambda: len(rig.feed.readings()) >= 10, 60, "first readings")
        rig.daemon.send_signal(signal.SIGTERM)
        self.assertEqual(rig.daemon.wait(timeout=30), 0)

        now = int(time.time() * 1000)
        db = sqlite3.connect(os.path.join(rig.data_dir, "ecmgw.db"), timeout=10)
        with db:
            for day in range(60, 30, -1):  # 60..31 days old: all past the 30-day retention
                for q in ("energy_kwh", "voltage_a_v"):
                    db.execute("INSERT INTO readings (meter, ts_ms, quantity, value) VALUES (?, ?, ?, ?)",
                               ("E-0001", now - day * DAY_MS, q, f"{1000 - day}.5"))
                db.execute("INSERT INTO events (ts_ms, type, body) VALUES (?, 'old_event', '{}')",
                           (now - day * DAY_MS,))
        db.close()
        ledger_before = store_query(rig.data_dir, "SELECT count(*) FROM ledger")[0][0]
        cutoff = now - 30 * DAY_MS

        rig.start_daemon()
        wait_for(lambda: "retention: deleted" in read_log(rig.daemon), 60, "the retention pass")
        old = store_query(rig.data_dir,
                          f"SELECT quantity, value FROM readings WHERE ts_ms < {cutoff} ORDER BY quantity")
        # The newest reading of each quantity before the cutoff stays (31 days old).
        self.assertEqual(old, [("energy_kwh", "969.5"), ("voltage_a_v", "969.5")])
        self.assertEqual(store_query(rig.data_dir,
                                     "SELECT count(*) FROM events WHERE type = 'old_event'")[0][0], 0)
        self.assertEqual(store_query(rig.data_dir, "SELECT count(*) FROM ledger")[0][0], ledger_before)
        # Recent readings are untouched and polling goes on.
        n = store_query(rig.data_dir, f"SELECT count(*) FROM readings WHERE ts_ms >= {cutoff}")[0][0]
        wait_for(lambda: store_query(rig.data_dir, f"SELECT count(*) FROM readings WHERE ts_ms >= {cutoff}")[0][0]
                 > n + 10, 60, "more readings after the retention pass")


if __name__ == "__main__":
    unittest.main()
