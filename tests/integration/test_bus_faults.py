"""Field failures on the bus, through the real binaries: a dead meter among
live ones, answers from the wrong address, and a serial adapter that vanishes
and comes back."""

import datetime
import decimal
import json
import os
import subprocess
import re
import signal
import unittest

from harness import ECMGW, ECMGW_SIM, PtyPair, Rig, read_log, store_query, wait_for


def energy_times(rig, meter):
    rows = store_query(rig.data_dir, "SELECT ts_ms FROM readings WHERE meter = ? "
                       "AND quantity = 'energy_kwh' ORDER BY ts_ms".replace("?", f"'{meter}'"))
    return [r[0] for r in rows]


def bus_events(rig, name):
    """The events of type `name` the cloud received, once each (by seq), in seq order."""
    by_seq = {e["seq"]: e for e in rig.feed.events(name)}
    return [by_seq[s] for s in sorted(by_seq)]


def serving(sim):
    wait_for(lambda: "serving" in read_log(sim) or sim.poll() is not None, 10, "ecmgw-sim to serve")
    if sim.poll() is not None:
        raise AssertionError(f"ecmgw-sim exited with {sim.returncode}:\n{read_log(sim)}")


class DeadMeterTest(unittest.TestCase):
    def setUp(self):
        # Meter 2 never answers; each timeout costs 400 ms of bus time.
        self.rig = Rig(meters=4, interval_s=2, sim_args=["--silent", "000000000002"],
                       bus_extra={"timeout_ms": 400, "retries": 1})

    def tearDown(self):
        self.rig.close()

    def test_live_meters_keep_their_schedule_and_the_dead_one_is_only_probed(self):
        daemon = self.rig.start_daemon()
        wait_for(lambda: len(energy_times(self.rig, "E-0001")) >= 12, 90, "12 turns of a live meter")
        log = read_log(daemon)
        self.assertIn("meter E-0002 (dlt645-2007 000000000002) has not answered 3 turns", log)
        for meter in ("E-0001", "E-0003", "E-0004"):
            times = energy_times(self.rig, meter)
            gaps = [b - a for a, b in zip(times, times[1:])]
            # A 2 s cadence; the dead meter's timeouts may delay a turn by at most one
            # timeout with its retry, never skip a turn.
            self.assertTrue(all(1000 <= g <= 3200 for g in gaps), f"{meter} turns: {gaps}")
        # After it was declared dead (3 silent turns, each a timeout plus a retry),
        # the first probe is 60 s away: no more requests for it in this window.
        timeouts = len(re.findall(r"meter E-0002: no answer", log))
        self.assertEqual(timeouts, 3, log[-2000:])
        self.assertEqual(energy_times(self.rig, "E-0002"), [])

        # The cloud hears of it once, not once per silent turn or probe.
        wait_for(lambda: bus_events(self.rig, "meter_offline"), 30, "the meter_offline event")
        offline = bus_events(self.rig, "meter_offline")
        self.assertEqual([e["meter"] for e in offline], ["E-0002"], offline)
        self.assertEqual(offline[0]["bus"], "floor1")
        details = offline[0]["details"]
        self.assertEqual(details["silent_turns"], 3)
        self.assertIn("no answer", details["last_error"])
        self.assertNotIn("last_answer", details)  # it never answered since the start
        self.assertIn("never answered since the bus started", details["message"])
        self.assertEqual(bus_events(self.rig, "meter_online"), [])

        # Power comes back to the meter; a technician's read reaches it before its
        # next probe (a minute away) and it is online again.
        self.rig.sim.terminate()
        self.rig.sim.wait(timeout=10)
        self.rig.sim = self.rig.procs.start("sim-powered", [
            ECMGW_SIM, "--device", self.rig.line.meter_end, "--meters", "4", "--answer-delay-ms", "5"])
        serving(self.rig.sim)
        out = subprocess.run([ECMGW, "read", "E-0002", "--socket", os.path.join(self.rig.workdir, "control.sock")],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        online = wait_for(lambda: bus_events(self.rig, "meter_online"), 30, "the meter_online event")
        self.assertEqual([e["meter"] for e in online], ["E-0002"], online)
        self.assertGreater(online[0]["seq"], offline[0]["seq"])
        self.assertGreaterEqual(online[0]["details"]["offline_s"], details["silent_s"])
        self.assertEqual([e["meter"] for e in bus_events(self.rig, "meter_offline")], ["E-0002"])


class WrongAddressTest(unittest.TestCase):
    def test_answers_from_the_wrong_address_are_never_stored(self):
        # Meter 2 always answers with its neighbour's address; meter 1 is healthy.
        rig = Rig(meters=2, interval_s=1, sim_args=["--fault", "000000000002:wrong-address=1.0"],
                  bus_extra={"timeout_ms": 300, "retries": 0})
        try:
            daemon = rig.start_daemon()
            wait_for(lambda: len(energy_times(rig, "E-0001")) >= 5, 60, "readings of the healthy meter")
            wait_for(lambda: "meter E-0002 (dlt645-2007 000000000002) has not answered 3 turns"
                     in read_log(daemon), 60, "the misaddressed meter to count as silent")
            self.assertEqual(energy_times(rig, "E-0002"), [])
            # Every value stored for meter 1 is one the simulator sent as meter 1.
            answers = rig.answers()
            for meter, quantity, value in store_query(rig.data_dir,
                                                      "SELECT meter, quantity, value FROM readings"):
                self.assertEqual(meter, "E-0001")
                sent = {decimal.Decimal(v) for v in answers.get((meter, quantity), ())}
                self.assertIn(decimal.Decimal(value), sent, f"{meter} {quantity} = {value}")
        finally:
            rig.close()


class TimeSyncTest(unittest.TestCase):
    def test_the_bus_broadcasts_the_gateways_local_time_to_its_meters(self):
        rig = Rig(meters=1, interval_s=5, bus_extra={"time_sync_interval_s": 60})
        try:
            with open(rig.config) as f:
                text = f.read()
            # Meters keep local time: Shanghai is UTC+8 all year.
            with open(rig.config, "w") as f:
                f.write(text.replace('timezone = "UTC"', 'timezone = "Asia/Shanghai"'))
            before = self.meter_hour(rig)
            daemon = rig.start_daemon()
            wait_for(lambda: len(energy_times(rig, "E-0001")) >= 1, 60, "the first turn")
            daemon.terminate()
            self.assertEqual(daemon.wait(timeout=30), 0)
            utc_hour = datetime.datetime.now(datetime.timezone.utc).hour
            self.assertIn(before, {utc_hour, (utc_hour - 1) % 24}, "the simulator starts on UTC")
            self.assertIn(self.meter_hour(rig), {(utc_hour + 8) % 24, (utc_hour + 9) % 24},
                          "after the broadcast the meter keeps Shanghai time")
        finally:
            rig.close()

    def meter_hour(self, rig):
        out = subprocess.run([ECMGW, "read", "--device", rig.line.master_end, "--address", "000000000001",
                              "--quantity", "meter_time", "--json"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        return int(json.loads(out.stdout)["values"]["meter_time"].split(":")[0])


class VanishingAdapterTest(unittest.TestCase):
    def test_a_lost_adapter_is_reopened_and_polling_resumes(self):
        rig = Rig(meters=2, interval_s=1)
        try:
            daemon = rig.start_daemon()
            wait_for(lambda: len(energy_times(rig, "E-0001")) >= 3, 60, "first readings")
            # Pull the adapter: the pty pair and the meters behind it disappear.
            rig.sim.terminate()
            rig.sim.wait(timeout=10)
            rig.line.proc.terminate()
            rig.line.proc.wait(timeout=10)
            wait_for(lambda: "reopening" in read_log(daemon), 60, "the daemon to notice the lost port")
            lost = wait_for(lambda: bus_events(rig, "bus_link_lost"), 30, "the bus_link_lost event")
            self.assertEqual(lost[0]["bus"], "floor1")
            self.assertNotIn("meter", lost[0])
            self.assertIn("floor1-gw", lost[0]["details"]["link"])
            self.assertIn("cause", lost[0]["details"])  # it failed in use, then would not open
            before = len(energy_times(rig, "E-0001"))
            # Plug it back in: the same device path appears again.
            for path in (rig.line.master_end, rig.line.meter_end):
                if os.path.lexists(path):
                    os.unlink(path)
            rig.line = PtyPair(rig.procs, rig.workdir, "floor1")
            rig.sim = rig.procs.start("sim2", [ECMGW_SIM, "--device", rig.line.meter_end,
                                               "--meters", "2", "--answer-delay-ms", "5"])
            wait_for(lambda: len(energy_times(rig, "E-0001")) >= before + 3, 90,
                     "readings after the adapter came back")
            self.assertIsNone(daemon.poll(), "the daemon must keep running")
            self.assertRegex(read_log(daemon), r"bus floor1: opened .*floor1-gw")
            restored = wait_for(lambda: bus_events(rig, "bus_link_restored"), 30,
                                "the bus_link_restored event")
            # One of each however many reopen attempts failed, in that order.
            self.assertEqual(len(bus_events(rig, "bus_link_lost")), 1)
            self.assertEqual(len(restored), 1)
            self.assertGreater(restored[0]["seq"], lost[0]["seq"])
            self.assertGreaterEqual(restored[0]["details"]["failed_attempts"], 1)
            # The meters were not polled meanwhile: none of them was declared offline.
            self.assertEqual(bus_events(rig, "meter_offline"), [])
        finally:
            rig.close()


if __name__ == "__main__":
    unittest.main()
