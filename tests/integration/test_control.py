"""The control socket: `ecmgw status`, `read`, `relay`, `scan`, `events` and
`export` through a running daemon that owns its bus (simulated DL/T 645-2007
meters on a socat pty pair), and the direct commands on its port, which it runs
on that bus."""

import csv
import datetime
import decimal
import grp
import io
import json
import os
import pwd
import select
import subprocess
import time
import unittest

from harness import ECMGW, Rig, read_log, store_query, wait_for

D = decimal.Decimal

ACCOUNTS = """
[[tariff]]
id = "flat"
utility = "electricity"
price = "0.5283"

[[account]]
id = "A-0101"
tariff = "flat"
opening_balance_fen = 100000000

[[account]]
id = "A-0102"
tariff = "flat"
opening_balance_fen = 100000000

[prepaid]
relay_min_interval_s = 0

[control]
socket = "control.sock"
"""


def meter(mid, address, account):
    return {"id": mid, "protocol": "dlt645-2007", "address": address, "kind": "electricity",
            "account": account, "relay": True, "max_rate_per_hour": "1000000",
            "quantities": ["energy_kwh", "status_word_3"]}


def ecmgw(rig, *args, timeout=120):
    return subprocess.run([ECMGW, *args, "--socket", os.path.join(rig.workdir, "control.sock")],
                          capture_output=True, text=True, timeout=timeout)


def ok_json(test, out):
    test.assertEqual(out.returncode, 0, out.stdout + out.stderr)
    return json.loads(out.stdout, parse_float=D)


def supply(rig, mid):
    return store_query(rig.data_dir,
                       f"SELECT desired, force, observed FROM supply WHERE meter = '{mid}'")[0]


def parse_rfc3339_ms(text):
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return round(t.timestamp() * 1000)


class ControlSocketTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.rig = Rig(meter_configs=[meter("E-0101", "000000000101", "A-0101"),
                                     meter("E-0102", "000000000102", "A-0102")],
                      interval_s=1, sim_args=["--speed", "1000", "--load-kw", "10"],
                      extra_config=ACCOUNTS)
        cls.rig.start_daemon()
        cls.socket = os.path.join(cls.rig.workdir, "control.sock")
        wait_for(lambda: os.path.exists(cls.socket), 30, "the control socket")
        # Both meters read and their supply confirmed before any test looks.
        wait_for(lambda: all(supply(cls.rig, m)[2] == "on" for m in ("E-0101", "E-0102")), 60,
                 "both relays read back on")

    @classmethod
    def tearDownClass(cls):
        cls.rig.close()

    def test_socket_is_group_only(self):
        st = os.stat(self.socket)
        self.assertEqual(st.st_mode & 0o777, 0o660)
        # Group ecmgw where it exists (the technicians), else the daemon's own.
        try:
            group = grp.getgrnam("ecmgw").gr_gid
        except KeyError:
            group = os.getegid()
        self.assertEqual(st.st_gid, group)

    def test_status_json_shows_buses_meters_accounts_outbox_and_cloud(self):
        def status_with_readings():
            s = ok_json(self, ecmgw(self.rig, "status", "--json"))
            return s if all("last_reading" in m for m in s["meters"]) else None
        s = wait_for(status_with_readings, 30, "both meters to have a stored reading")
        self.assertEqual(s["gateway"], "gw-test")
        self.assertEqual([b["name"] for b in s["buses"]], ["floor1"])
        self.assertTrue(s["buses"][0]["port_open"])
        self.assertGreater(s["buses"][0]["counters"]["answers"], 0)
        self.assertEqual(sorted(m["id"] for m in s["buses"][0]["meters"]), ["E-0101", "E-0102"])
        by_id = {m["id"]: m for m in s["meters"]}
        self.assertEqual(sorted(by_id), ["E-0101", "E-0102"])
        for mid in by_id:
            m = by_id[mid]
            self.assertEqual(m["bus"], "floor1")
            self.assertEqual(m["last_reading"]["quantity"], "energy_kwh")
            self.assertLess(m["last_reading"]["age_s"], 30)
            stored = store_query(self.rig.data_dir,
                                 f"SELECT value FROM readings WHERE meter = '{mid}' AND "
                                 f"quantity = 'energy_kwh' AND ts_ms = {m['last_reading']['ts_ms']}")
            self.assertEqual(D(stored[0][0]), D(m["last_reading"]["value"]))
            self.assertIn(m["supply"]["observed"], ("on", "off"))
        accounts = {a["id"]: a for a in s["accounts"]}
        self.assertEqual(sorted(accounts), ["A-0101", "A-0102"])
        self.assertEqual(accounts["A-0101"]["meters"], ["E-0101"])
        self.assertIn("count", s["outbox"])
        self.assertIn("connected", s["cloud"])
        self.assertTrue(wait_for(lambda: ok_json(self, ecmgw(self.rig, "status", "--json"))["cloud"]["connected"],
                                 30, "the cloud link in the status"))

    def test_status_table_is_for_people(self):
        out = ecmgw(self.rig, "status")
        self.assertEqual(out.returncode, 0, out.stderr)
        for text in ("gateway gw-test", "BUS", "floor1", "METER", "E-0101", "E-0102", "ACCOUNT",
                     "A-0101", "outbox"):
            self.assertIn(text, out.stdout)

    def test_read_goes_through_the_daemon_and_is_stored(self):
        result = ok_json(self, ecmgw(self.rig, "read", "E-0101", "--json"))
        self.assertEqual(result["meter"], "E-0101")
        self.assertEqual(result["bus"], "floor1")
        energy = result["values"]["energy_kwh"]
        self.assertIn(str(energy), self.rig.answers()[("E-0101", "energy_kwh")])
        wait_for(lambda: store_query(self.rig.data_dir,
                                     "SELECT count(*) FROM readings WHERE meter = 'E-0101' AND "
                                     f"quantity = 'energy_kwh' AND value = '{energy}'")[0][0] >= 1,
                 30, "the read-now's reading in the store")

    def test_read_of_an_unknown_meter_is_refused(self):
        out = ecmgw(self.rig, "read", "E-9999")
        self.assertEqual(out.returncode, 1)
        self.assertIn("no meter E-9999", out.stderr)

    def test_relay_override_reaches_the_meter_and_stays(self):
        off = ok_json(self, ecmgw(self.rig, "relay", "E-0102", "off", "--json"))
        self.assertTrue(off["confirmed"])
        self.assertEqual((off["desired"], off["force"], off["observed"]), ("off", "off", "off"))
        user = pwd.getpwuid(os.getuid()).pw_name
        self.assertEqual(off["by"], f"cli:{user}")
        self.assertEqual(supply(self.rig, "E-0102"), ("off", "off", "off"))
        # The simulated meter itself: its relay reads back open (status word 3 bit 4).
        values = ok_json(self, ecmgw(self.rig, "read", "E-0102", "--json"))["values"]
        self.assertTrue(int(values["status_word_3"]) & 0x10, "relay open in the meter")
        # The override is recorded with who did it.
        forced = store_query(self.rig.data_dir,
                             "SELECT json_extract(body, '$.details.by'), json_extract(body, '$.details.force') "
                             "FROM events WHERE type = 'supply_forced' AND meter = 'E-0102'")
        self.assertIn((f"cli:{user}", "off"), forced)
        # The reconciler does not undo it: several polls later it is still off.
        after = store_query(self.rig.data_dir, "SELECT max(id) FROM readings")[0][0]
        wait_for(lambda: store_query(self.rig.data_dir,
                                     "SELECT count(*) FROM readings WHERE meter = 'E-0102' AND "
                                     f"id > {after}")[0][0] >= 6, 30, "three more polls of E-0102")
        self.assertEqual(supply(self.rig, "E-0102"), ("off", "off", "off"))
        # auto hands the meter back to the prepaid decision (credit: on).
        back = ok_json(self, ecmgw(self.rig, "relay", "E-0102", "auto", "--json"))
        self.assertTrue(back["confirmed"])
        self.assertEqual((back["desired"], back["force"], back["observed"]), ("on", "none", "on"))
        values = ok_json(self, ecmgw(self.rig, "read", "E-0102", "--json"))["values"]
        self.assertFalse(int(values["status_word_3"]) & 0x10, "relay closed in the meter")

    def test_valve_on_an_electricity_meter_is_refused(self):
        out = ecmgw(self.rig, "valve", "E-0101", "close")
        self.assertEqual(out.returncode, 1)
        self.assertIn("use `ecmgw relay`", out.stderr)

    def test_export_readings_is_valid_csv(self):
        wait_for(lambda: store_query(self.rig.data_dir,
                                     "SELECT count(*) FROM readings WHERE meter = 'E-0101'")[0][0] >= 4,
                 30, "some readings")
        first, last = store_query(self.rig.data_dir,
                                  "SELECT min(ts_ms), max(ts_ms) FROM readings WHERE meter = 'E-0101'")[0]
        to_ms = last + 1
        fmt = lambda ms: datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
        out = ecmgw(self.rig, "export", "readings", "--from", fmt(first), "--to", fmt(to_ms),
                    "--meter", "E-0101", "--csv")
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = list(csv.DictReader(io.StringIO(out.stdout)))
        self.assertEqual(out.stdout.splitlines()[0], "meter,time,ts_ms,quantity,value")
        expected = store_query(self.rig.data_dir,
                               "SELECT meter, ts_ms, quantity, value FROM readings WHERE meter = 'E-0101' "
                               f"AND ts_ms >= {first} AND ts_ms < {to_ms} ORDER BY ts_ms, id")
        self.assertEqual(len(rows), len(expected))
        self.assertEqual(sorted((r["meter"], int(r["ts_ms"]), r["quantity"], r["value"]) for r in rows),
                         sorted(expected))
        for r in rows:
            self.assertEqual(parse_rfc3339_ms(r["time"]), int(r["ts_ms"]))
            D(r["value"])

    def test_export_json_parses(self):
        out = ecmgw(self.rig, "export", "readings", "--from", "2000-01-01", "--to", "2100-01-01",
                    "--meter", "E-0102", "--json")
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = json.loads(out.stdout, parse_float=D)
        self.assertTrue(rows)
        self.assertEqual({r["meter"] for r in rows}, {"E-0102"})

    def test_events_follow_prints_a_new_event(self):
        # --last 1: the newest stored event comes at once, which shows the follower
        # is tailing from then on; only then is the new event made.
        follower = subprocess.Popen(
            [ECMGW, "events", "--follow", "--last", "1", "--json", "--socket", self.socket],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30

        def next_event():
            left = deadline - time.monotonic()
            self.assertGreater(left, 0, "no event followed in time")
            ready, _, _ = select.select([follower.stdout], [], [], left)
            self.assertTrue(ready, "no event followed in time")
            line = follower.stdout.readline()
            if not line:
                self.fail(f"the follower ended: {follower.stderr.read()}")
            return json.loads(line)
        try:
            newest = next_event()["id"]
            # Forcing a meter that is on to on changes nothing for the meter, but it
            # is an event.
            ok_json(self, ecmgw(self.rig, "relay", "E-0101", "on", "--json"))
            while True:
                e = next_event()
                self.assertGreater(e["id"], newest)
                if e["type"] == "supply_forced" and e["meter"] == "E-0101":
                    self.assertEqual(e["body"]["details"]["force"], "on")
                    break
        finally:
            follower.terminate()
            follower.wait(10)
            follower.stdout.close()
            follower.stderr.close()
            ok_json(self, ecmgw(self.rig, "relay", "E-0101", "auto", "--json"))

    def test_events_lists_the_newest(self):
        out = ecmgw(self.rig, "events", "--last", "3")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertLessEqual(len(out.stdout.splitlines()), 3)

    def test_direct_read_on_the_daemons_port_runs_through_it(self):
        device = self.rig.line.master_end
        out = ecmgw(self.rig, "read", "--device", device, "--address", "000000000101",
                    "--quantity", "energy_kwh", "--quantity", "meter_date", "--json")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("is bus floor1 of the running gateway daemon: the command runs through it",
                      out.stderr)
        body = json.loads(out.stdout, parse_float=D)
        self.assertEqual(body["address"], "000000000101")
        self.assertEqual(body["device"], device)
        self.assertGreater(body["values"]["energy_kwh"], 0)
        self.assertRegex(body["values"]["meter_date"], r"^\d{4}-\d{2}-\d{2}")
        self.assertIn("bus floor1: scheduled polling paused", read_log(self.rig.daemon))
        # The direct command's table and exit codes: 2 for a meter that does not answer.
        out = ecmgw(self.rig, "read", "--device", device, "--address", "000000000101",
                    "--quantity", "energy_kwh")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"meter 000000000101 \(dlt645-2007\) on .*\n  energy_kwh +\d")
        out = ecmgw(self.rig, "read", "--device", device, "--address", "000000000999",
                    "--quantity", "energy_kwh")
        self.assertEqual(out.returncode, 2, out.stdout + out.stderr)
        self.assertIn("did not answer", out.stderr)

    def test_direct_line_flags_other_than_the_buses_are_refused(self):
        out = ecmgw(self.rig, "read", "--device", self.rig.line.master_end, "--address",
                    "000000000101", "--baud", "9600")
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn("--baud 9600: the running gateway daemon keeps bus floor1 at 2400 8E1", out.stderr)

    def test_direct_relay_on_the_daemons_port_runs_through_it(self):
        out = ecmgw(self.rig, "relay", "--device", self.rig.line.master_end, "--address",
                    "000000000102", "on")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("relay on: meter 000000000102 (dlt645-2007)", out.stdout)
        self.assertIn("read back: on (relay closed)", out.stdout)
        out = ecmgw(self.rig, "relay", "--device", self.rig.line.master_end, "--address",
                    "000000000102", "on", "--timezone", "UTC")
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn("--timezone", out.stderr)

    @unittest.skipUnless(os.geteuid() == 0, "needs root to run the CLI as another user")
    def test_a_user_the_socket_refuses_does_not_open_the_port(self):
        nobody = pwd.getpwnam("nobody")
        out = subprocess.run(["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                              "--clear-groups", ECMGW, "read", "--device", self.rig.line.master_end,
                              "--address", "000000000101", "--socket", self.socket],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn("the gateway daemon is running, but its control socket refused you", out.stderr)
        self.assertIn("group ecmgw", out.stderr)
        self.assertEqual(out.stdout, "")

    def test_a_meter_name_and_port_flags_together_are_refused(self):
        out = ecmgw(self.rig, "read", "E-0101", "--device", self.rig.line.master_end)
        self.assertEqual(out.returncode, 1)
        self.assertIn("not both", out.stderr)

    def test_bad_request_lines_get_an_error_line(self):
        import socket as sockets
        with sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM) as s:
            s.connect(self.socket)
            s.sendall(b'not json\n{"op":"nope"}\n{"op":"status"}\n')
            f = s.makefile("r")
            first, second, third = (json.loads(f.readline()) for _ in range(3))
        self.assertFalse(first["ok"])
        self.assertIn("one JSON object per line", first["error"])
        self.assertIn('unknown op "nope"', second["error"])
        self.assertTrue(third["ok"])


class ScanThroughDaemonTest(unittest.TestCase):
    def setUp(self):
        self.rig = Rig(meters=1, interval_s=1, extra_config='\n[control]\nsocket = "control.sock"\n')
        self.addCleanup(self.rig.close)
        self.rig.start_daemon()
        self.socket = os.path.join(self.rig.workdir, "control.sock")
        wait_for(lambda: os.path.exists(self.socket), 30, "the control socket")

    def test_scan_pauses_polling_finds_the_meter_and_polling_resumes(self):
        out = ecmgw(self.rig, "scan", "floor1")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn('address = "000000000001"', out.stdout)
        self.assertIn('bus = "floor1"', out.stdout)
        log = read_log(self.rig.daemon)
        self.assertIn("bus floor1: scheduled polling paused", log)
        self.assertIn("bus floor1: scheduled polling resumed", log)
        after = store_query(self.rig.data_dir, "SELECT coalesce(max(id), 0) FROM readings")[0][0]
        wait_for(lambda: store_query(self.rig.data_dir,
                                     f"SELECT count(*) FROM readings WHERE id > {after}")[0][0] > 0,
                 30, "readings after the scan")

    def test_scan_json_parses(self):
        report = ok_json(self, ecmgw(self.rig, "scan", "floor1", "--json"))
        self.assertEqual([m["address"] for m in report["found"]], ["000000000001"])


class NoDaemonTest(unittest.TestCase):
    def test_status_without_a_daemon_says_so(self):
        out = subprocess.run([ECMGW, "status", "--socket", "/nonexistent/control.sock"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 1)
        self.assertIn("no gateway daemon is running", out.stderr)

    def test_a_meter_name_without_a_daemon_points_to_the_direct_flags(self):
        out = subprocess.run([ECMGW, "read", "E-0101", "--socket", "/nonexistent/control.sock"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 1)
        self.assertIn("--device", out.stderr)


if __name__ == "__main__":
    unittest.main()
