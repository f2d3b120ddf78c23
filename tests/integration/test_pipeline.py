"""The foundation's path end to end: simulated DL/T 645 meters on a pty pair →
ecmgw → SQLite → a real mosquitto → a subscriber."""

import decimal
import os
import signal
import subprocess
import unittest

from harness import Rig, store_query, unique_seqs, wait_for, read_log


def assert_gap_free_from(test, seqs, first=1):
    test.assertEqual(seqs, list(range(first, first + len(seqs))),
                     "sequence numbers must be strictly increasing and gap-free")


class PipelineTest(unittest.TestCase):
    def setUp(self):
        self.rig = Rig(meters=3)

    def tearDown(self):
        self.rig.close()

    def test_readings_arrive_in_order_with_the_simulators_values(self):
        self.rig.start_daemon()
        readings = wait_for(lambda: len(self.rig.feed.readings()) >= 30 and self.rig.feed.readings(),
                            60, "30 readings over MQTT")
        assert_gap_free_from(self, unique_seqs(readings))
        topic, first = self.rig.feed.snapshot()[0]
        self.assertEqual(topic, "ecm/v1/gw-test/readings")
        self.assertEqual(first["gateway"], "gw-test")
        self.assertEqual(first["seq"], first["readings"][0]["seq"])
        self.assertEqual(first["count"], len(first["readings"]))
        answers = self.rig.answers()
        meters = set()
        for r in readings:
            self.assertRegex(r["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            sent = {decimal.Decimal(v) for v in answers.get((r["meter"], r["quantity"]), ())}
            self.assertIn(decimal.Decimal(r["value"]), sent,
                          f"{r['meter']} {r['quantity']} = {r['value']} was never answered by the simulator")
            meters.add(r["meter"])
        self.assertEqual(meters, {"E-0001", "E-0002", "E-0003"})
        # The store holds every reading published.
        stored = store_query(self.rig.data_dir, "SELECT count(*) FROM readings")[0][0]
        self.assertGreaterEqual(stored, len(set(unique_seqs(readings))))

    def test_broker_outage_loses_nothing_and_keeps_order(self):
        self.rig.start_daemon()
        wait_for(lambda: len(self.rig.feed.readings()) >= 10, 60, "first readings")
        self.rig.broker.stop()
        # While the broker is down, the daemon keeps polling into the outbox.
        wait_for(lambda: store_query(self.rig.data_dir, "SELECT count(*) FROM outbox")[0][0] >= 20,
                 60, "20 readings waiting in the outbox during the outage")
        self.rig.broker.start()
        last = store_query(self.rig.data_dir, "SELECT value FROM sequence WHERE name='outbox'")[0][0]
        seqs = wait_for(lambda: (lambda s: s if s and s[-1] >= last + 10 else None)(
            unique_seqs(self.rig.feed.readings())), 90, f"seq {last + 10} after the outage")
        assert_gap_free_from(self, seqs)
        self.assertIn("cloud:", read_log(self.rig.daemon))

    def test_kill_9_then_restart_continues_the_sequence(self):
        daemon = self.rig.start_daemon()
        wait_for(lambda: len(self.rig.feed.readings()) >= 15, 60, "first readings")
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(timeout=10)
        integrity = store_query(self.rig.data_dir, "PRAGMA integrity_check")[0][0]
        self.assertEqual(integrity, "ok")
        last = store_query(self.rig.data_dir, "SELECT value FROM sequence WHERE name='outbox'")[0][0]
        self.rig.start_daemon()
        seqs = wait_for(lambda: (lambda s: s if s and s[-1] >= last + 15 else None)(
            unique_seqs(self.rig.feed.readings())), 60, f"seq {last + 15} after the restart")
        assert_gap_free_from(self, seqs)

    def test_sigterm_stops_cleanly_with_exit_code_0(self):
        daemon = self.rig.start_daemon()
        wait_for(lambda: len(self.rig.feed.readings()) >= 5, 60, "first readings")
        daemon.send_signal(signal.SIGTERM)
        self.assertEqual(daemon.wait(timeout=30), 0)
        self.assertIn("stopped:", read_log(daemon))
        # What was stored before the stop is all in the outbox or published.
        readings = store_query(self.rig.data_dir, "SELECT count(*) FROM readings")[0][0]
        last = store_query(self.rig.data_dir, "SELECT value FROM sequence WHERE name='outbox'")[0][0]
        self.assertEqual(readings, last)


class NoisyBusTest(unittest.TestCase):
    def test_noise_on_the_bus_is_counted_and_polling_goes_on(self):
        rig = Rig(meters=2, sim_args=["--noise-every", "3", "--silent", "000000000002"])
        try:
            rig.start_daemon()
            readings = wait_for(lambda: len(rig.feed.readings()) >= 20 and rig.feed.readings(),
                                90, "20 readings through the noise")
            # One seq counter for every kind: the silent meter's meter_offline event
            # takes its seq among the readings.
            last = max(r["seq"] for r in readings)
            wait_for(lambda: {r["seq"] for r in rig.feed.readings() + rig.feed.events()}
                     >= set(range(1, last + 1)), 30, "every seq up to the last reading's")
            seqs = sorted({r["seq"] for r in rig.feed.readings() + rig.feed.events()})
            assert_gap_free_from(self, seqs)
            self.assertEqual({r["meter"] for r in readings}, {"E-0001"},
                             "the silent meter must yield no readings")
            self.assertEqual([e["meter"] for e in rig.feed.events("meter_offline")], ["E-0002"])
        finally:
            rig.close()


if __name__ == "__main__":
    unittest.main()
