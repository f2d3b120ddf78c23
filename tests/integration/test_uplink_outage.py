"""Broker outages and backlogs through the real binaries and a real mosquitto: nothing
lost, seqs gap-free, the backlog in order, live records flowing beside the backlog,
a second outage during the backfill, a broker that drops the gateway on large
messages (its batches shrink until they pass), and a store that refuses to delete
acknowledged records (tried again after pauses, not at once)."""

import os
import signal
import sqlite3
import time
import unittest

from harness import (Rig, append_outbox_readings, read_log, store_query, unique_seqs, wait_for)

BACKLOG = 60000


def first_arrival(readings):
    """seq → index of its first arrival."""
    order = {}
    for i, r in enumerate(readings):
        order.setdefault(r["seq"], i)
    return order


def cpu_seconds(pid):
    """User plus system CPU time the process has used, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class OutageTest(unittest.TestCase):
    def tearDown(self):
        self.rig.close()

    def last_seq(self):
        return store_query(self.rig.data_dir, "SELECT value FROM sequence WHERE name='outbox'")[0][0]

    def wait_all_through(self, last, timeout=90):
        def complete():
            # Live records overtake the backlog: count only seqs up to `last`.
            seen = set(r["seq"] for r in self.rig.feed.readings())
            return all(s in seen for s in range(1, last + 1))
        wait_for(complete, timeout, f"every seq through {last}")

    def test_outage_then_a_second_one_during_the_backfill(self):
        # Two records a message: the backfill takes seconds, long enough to break it.
        self.rig = rig = Rig(meters=3, cloud={"batch_max_records": 2})
        daemon = rig.start_daemon()
        wait_for(lambda: len(rig.feed.readings()) >= 10, 60, "first readings")
        # Outage 1, mid-stream: the daemon keeps polling into the outbox.
        rig.broker.stop()
        wait_for(lambda: store_query(rig.data_dir, "SELECT count(*) FROM outbox")[0][0] >= 30, 60,
                 "readings waiting during the outage")
        # A long backlog, as after hours offline.
        daemon.send_signal(signal.SIGTERM)
        self.assertEqual(daemon.wait(timeout=30), 0)
        first, backlog_end = append_outbox_readings(rig.data_dir, BACKLOG)
        rig.broker.start()
        wait_for(rig.feed.connected.is_set, 30, "the test's subscriber to be back")
        daemon = rig.start_daemon()
        # Outage 2, during the backfill.
        wait_for(lambda: len(rig.feed.readings()) >= 10 + BACKLOG // 10, 60, "a tenth of the backlog")
        lost_before = read_log(daemon).count("connection lost")
        rig.broker.stop()
        wait_for(lambda: read_log(daemon).count("connection lost") > lost_before
                 or "no PUBACK" in read_log(daemon), 60, "the daemon to notice the second outage")
        rig.broker.start()
        last = self.last_seq() + 10
        self.wait_all_through(last, 120)

        readings = rig.feed.readings()
        seqs = sorted(set(r["seq"] for r in readings))
        self.assertEqual(seqs[:last], list(range(1, last + 1)), "every seq, none missing")
        duplicates = len(readings) - len(set(r["seq"] for r in readings))
        print(f"\n{len(readings)} readings received, {duplicates} duplicates")
        # The backlog arrives in seq order (first arrivals; repeats after a reconnect aside).
        order = first_arrival(readings)
        backlog_order = [order[s] for s in range(first, backlog_end + 1)]
        self.assertEqual(backlog_order, sorted(backlog_order), "the backlog arrives in seq order")
        # Live records did not wait for the whole backlog.
        live = [order[s] for s in range(backlog_end + 1, last + 1)]
        self.assertLess(min(live), order[backlog_end], "live records flow beside the backlog")
        self.assertIn("goes out beside live records", read_log(daemon))
        # Everything acknowledged is deleted from the outbox.
        wait_for(lambda: store_query(rig.data_dir, "SELECT min(seq) FROM outbox")[0][0] in (None,)
                 or store_query(rig.data_dir, "SELECT min(seq) FROM outbox")[0][0] > backlog_end,
                 30, "the acknowledged backlog to leave the outbox")

    def test_a_broker_that_drops_large_messages_gets_smaller_ones(self):
        # The broker disconnects a client that sends a packet over 4000 bytes.
        self.rig = rig = Rig(meters=1, broker_extra="max_packet_size 4000")
        daemon = rig.start_daemon()
        wait_for(lambda: rig.feed.readings(), 30, "first readings")
        daemon.send_signal(signal.SIGTERM)
        self.assertEqual(daemon.wait(timeout=30), 0)
        append_outbox_readings(rig.data_dir, 3000)  # 200-record messages of ~15 KB
        daemon = rig.start_daemon()
        last = self.last_seq()
        self.wait_all_through(last, 90)
        seqs = sorted(set(r["seq"] for r in rig.feed.readings()))
        self.assertEqual(seqs[:last], list(range(1, last + 1)))
        log = read_log(daemon)
        self.assertIn("batches shrink", log)
        self.assertNotIn("will not take it", log)


    def test_a_store_that_refuses_deletes_is_tried_again_after_pauses(self):
        self.rig = rig = Rig(meters=3)
        daemon = rig.start_daemon()
        wait_for(lambda: len(rig.feed.readings()) >= 10, 60, "first readings")
        # Deletes from the outbox now fail at once (as on a full or read-only store);
        # appending to it still works, so records keep being published and acknowledged.
        db = sqlite3.connect(f"{rig.data_dir}/ecmgw.db", timeout=10)
        self.addCleanup(db.close)
        with db:
            db.execute("CREATE TRIGGER test_refuse_deletes BEFORE DELETE ON outbox "
                       "BEGIN SELECT RAISE(ABORT, 'deletes refused by the test'); END")
        refused = "deletes refused by the test"  # the store's error, in each attempt's line
        wait_for(lambda: refused in read_log(daemon), 30, "the daemon to find it cannot delete")
        # Measured over a window: a retry at once would use a whole core and log each time.
        attempts_before = read_log(daemon).count(refused)
        cpu_before, wall_before = cpu_seconds(daemon.pid), time.monotonic()
        time.sleep(6)
        cpu = cpu_seconds(daemon.pid) - cpu_before
        wall = time.monotonic() - wall_before
        attempts = read_log(daemon).count(refused) - attempts_before
        print(f"\nstore refusing deletes: {cpu:.2f} s CPU in {wall:.1f} s, {attempts} attempts")
        self.assertLess(cpu / wall, 0.3, "the daemon spins while deletes fail")
        self.assertLessEqual(attempts, 4, "deletes are tried again after growing pauses")
        failing = "cannot delete the acknowledged outbox records"
        self.assertEqual(read_log(daemon).count(failing), 1, "an error once per change of state")
        # Acknowledged records still in the outbox are not published again.
        readings = rig.feed.readings()
        self.assertEqual(len(readings), len(set(r["seq"] for r in readings)), "no seq twice")
        pending = store_query(rig.data_dir, "SELECT count(*) FROM outbox")[0][0]
        self.assertGreater(pending, 10, "the acknowledged records stay while deletes fail")

        acked = max(r["seq"] for r in readings)
        with db:
            db.execute("DROP TRIGGER test_refuse_deletes")
        wait_for(lambda: "acknowledged outbox records deleted again" in read_log(daemon), 90,
                 "the daemon to delete again")
        wait_for(lambda: (store_query(rig.data_dir, "SELECT min(seq) FROM outbox")[0][0]
                          or acked + 1) > acked, 30, "the acknowledged records to leave the outbox")
        self.assertEqual(read_log(daemon).count(failing), 1)



if __name__ == "__main__":
    unittest.main()
