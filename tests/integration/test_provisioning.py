"""The cloud's archive of tariffs, accounts and meters, and config reloads, through the
real binaries: signed tariff_set / account_set / meter_set / *_remove / config_reload
commands change what the running daemon polls and charges without a restart, are
checked by the config file's own rules (refused with the reason otherwise), and
survive a restart; SIGHUP re-reads the file, restarting only the buses that changed.

The simulator serves three DL/T 645 meters (addresses 1..3) at 10 kW on a clock
running 1000x fast, so credit runs out in seconds."""

import os
import signal
import subprocess
import unittest

from harness import ECMGW, Rig, command_body, publish_command, read_log, store_query, wait_for

KEY = "k3y-for-the-provisioning-tests-0123456789"
CONFIG_EXTRA = """
[[tariff]]
id = "res-flat"
utility = "electricity"
price = "0.5283"

[prepaid]
relay_min_interval_s = 0
relay_daily_max = 1000

[control]
socket = "control.sock"
"""


def q(rig, sql):
    return store_query(rig.data_dir, sql)


def readings_of(rig, mid):
    return q(rig, f"SELECT count(*) FROM readings WHERE meter = '{mid}'")[0][0]


class ProvisioningTest(unittest.TestCase):
    def setUp(self):
        self.rig = Rig(meters=3, interval_s=1, sim_args=["--speed", "1000", "--load-kw", "10"],
                       extra_config=CONFIG_EXTRA, command_key=KEY)
        self.rig.start_daemon()

    def tearDown(self):
        self.rig.close()

    def command(self, type_, **fields):
        body = command_body(type_, **fields)
        publish_command(self.rig, body)
        return self.rig.wait_ack(body["id"])

    def provision(self, type_, **fields):
        """Sends a provisioning command, checks it was accepted and waits for the reload
        it causes (a config_reloaded event on MQTT)."""
        before = len(self.rig.feed.events("config_reloaded"))
        ack = self.command(type_, **fields)
        self.assertTrue(ack["ok"], ack)
        wait_for(lambda: len(self.rig.feed.events("config_reloaded")) > before, 30,
                 f"the reload after {type_}")
        return self.rig.feed.events("config_reloaded")[-1]

    def test_accounts_meters_and_tariffs_from_the_cloud_apply_at_once_and_survive_a_restart(self):
        rig = self.rig
        wait_for(lambda: readings_of(rig, "E-0002") >= 2, 30, "E-0002 to be polled")
        # A tariff and an account the file does not have.
        self.provision("tariff_set", tariff={"id": "cloud-flat", "utility": "electricity",
                                             "price": "0.61"})
        self.provision("account_set", account={"id": "A-0201", "tariff": "cloud-flat",
                                               "warn_fen": [200], "opening_balance_fen": 300})
        self.assertEqual(q(rig, "SELECT balance_fen FROM accounts WHERE id = 'A-0201'"), [(300,)])
        # The file's E-0003 now pays from A-0201 and may be cut.
        event = self.provision("meter_set", meter={
            "id": "E-0003", "bus": "floor1", "protocol": "dlt645-2007",
            "address": "000000000003", "interval_s": 1, "account": "A-0201", "relay": True,
            "max_rate_per_hour": "1000000", "quantities": ["energy_kwh"]})
        self.assertIn("restarted floor1", event["details"]["buses"])
        wait_for(lambda: q(rig, "SELECT count(*) FROM ledger WHERE kind = 'charge' "
                                "AND meter = 'E-0003'")[0][0] >= 1, 60, "E-0003 to be charged")
        wait_for(lambda: (q(rig, "SELECT observed FROM supply WHERE meter = 'E-0003'") or [(None,)])[0][0]
                 == "off", 120, "E-0003's relay to be read back open when A-0201 runs out")
        # Charged by the cloud's tariff.
        tariffs = q(rig, "SELECT DISTINCT json_extract(detail, '$.tariff') FROM ledger "
                         "WHERE kind = 'charge' AND meter = 'E-0003'")
        self.assertEqual(tariffs, [("cloud-flat",)])

        # E-0002 goes: its bus stops polling it.
        self.provision("meter_remove", meter="E-0002")
        stopped_at = readings_of(rig, "E-0002")
        e1 = readings_of(rig, "E-0001")
        wait_for(lambda: readings_of(rig, "E-0001") >= e1 + 3, 30, "E-0001 to be read three more times")
        self.assertLessEqual(readings_of(rig, "E-0002"), stopped_at + 1)

        rows = q(rig, "SELECT kind, id, body IS NULL FROM provisioned ORDER BY kind, id")
        self.assertEqual(rows, [("account", "A-0201", 0), ("meter", "E-0002", 1),
                                ("meter", "E-0003", 0), ("tariff", "cloud-flat", 0)])

        # A restart lays the registry over the file again.
        rig.daemon.send_signal(signal.SIGTERM)
        rig.daemon.wait(30)
        stopped_at = readings_of(rig, "E-0002")
        rig.start_daemon()
        e1 = readings_of(rig, "E-0001")
        wait_for(lambda: readings_of(rig, "E-0001") >= e1 + 3, 30, "E-0001 to be polled after the restart")
        self.assertEqual(readings_of(rig, "E-0002"), stopped_at)
        # E-0003 is still A-0201's, and still cut (its credit ran out): polled, and
        # kept off.
        e3 = readings_of(rig, "E-0003")
        wait_for(lambda: readings_of(rig, "E-0003") >= e3 + 2, 30, "E-0003 to be polled after the restart")
        self.assertEqual(q(rig, "SELECT account FROM meter_rating WHERE meter = 'E-0003'"), [("A-0201",)])
        self.assertEqual(q(rig, "SELECT desired FROM supply WHERE meter = 'E-0003'"), [("off",)])
        (bal, total), = q(rig, "SELECT balance_fen, (SELECT sum(amount_fen) FROM ledger WHERE "
                               "account = 'A-0201') FROM accounts WHERE id = 'A-0201'")
        self.assertEqual(bal, total)

    def test_read_now_and_time_sync(self):
        rig = self.rig
        rig.daemon.send_signal(signal.SIGTERM)
        rig.daemon.wait(30)
        with open(rig.config) as f:
            slow = f.read().replace("interval_s = 1", "interval_s = 3600")
        with open(rig.config, "w") as f:
            f.write(slow)
        stopped = {m: readings_of(rig, m) for m in ("E-0001", "E-0002", "E-0003")}
        rig.start_daemon()
        # Polled hourly: the first turn reads each meter once, then the bus waits.
        wait_for(lambda: all(readings_of(rig, m) > n for m, n in stopped.items()), 30,
                 "the first turn")
        before = readings_of(rig, "E-0002")
        # Polled hourly now: a reading within seconds is the one asked for.
        self.assertTrue(self.command("read_now", meter="E-0002")["ok"])
        wait_for(lambda: readings_of(rig, "E-0002") > before, 30, "the reading asked for")
        wait_for(lambda: [r for r in rig.feed.readings() if r["meter"] == "E-0002"
                          and r["seq"] > self.rig.acks()[-1]["seq"]], 30,
                 "the reading on the readings topic after the acknowledgement")

        self.assertTrue(self.command("time_sync")["ok"])
        wait_for(lambda: "bus floor1: broadcast the time" in read_log(rig.daemon), 30,
                 "the time broadcast on the bus")

    def test_a_change_that_would_break_the_config_is_refused_and_changes_nothing(self):
        rig = self.rig
        cases = [
            ("meter_set", {"meter": {"id": "E-0009", "bus": "floor9", "protocol": "dlt645-2007",
                                     "address": "000000000009"}}, "floor9"),
            ("meter_set", {"meter": {"bus": "floor1"}}, "\"id\" is missing"),
            ("tariff_set", {"tariff": {"id": "t", "utility": "electricity", "price": 0.61}},
             "a decimal written as a string"),
            ("tariff_set", {"tariff": {"id": "t", "utility": "electricity", "price": "-1"}},
             "price"),
            ("account_set", {"account": {"id": "A-1", "tariff": "no-such-tariff"}}, "no-such-tariff"),
            ("meter_remove", {"meter": "E-9999"}, "no meter E-9999"),
            ("account_remove", {"account": "A-9999"}, "no account A-9999"),
        ]
        for type_, fields, expected in cases:
            with self.subTest(type_=type_, expected=expected):
                ack = self.command(type_, **fields)
                self.assertFalse(ack["ok"], ack)
                self.assertIn(expected, ack["error"])
        self.assertEqual(q(rig, "SELECT count(*) FROM provisioned"), [(0,)])

        # An account with money in it is settled before it goes.
        self.assertTrue(self.command("account_set", account={
            "id": "A-0301", "tariff": "res-flat", "opening_balance_fen": 500})["ok"])
        ack = self.command("account_remove", account="A-0301")
        self.assertFalse(ack["ok"])
        self.assertIn("balance of 500 fen", ack["error"])
        self.assertTrue(self.command("adjust", account="A-0301", amount_fen=-500,
                                     reason="closing the account")["ok"])
        self.assertTrue(self.command("account_remove", account="A-0301")["ok"])
        self.assertEqual(q(rig, "SELECT body IS NULL FROM provisioned WHERE id = 'A-0301'"), [(1,)])

    def test_sighup_restarts_changed_buses_only_and_refuses_a_broken_file(self):
        rig = self.rig
        daemon = rig.daemon
        with open(rig.config) as f:
            original = f.read()

        # Nothing changed: the bus keeps polling.
        os.kill(daemon.pid, signal.SIGHUP)
        wait_for(lambda: len(rig.feed.events("config_reloaded")) >= 1, 30, "the first reload")
        self.assertEqual(rig.feed.events("config_reloaded")[-1]["details"]["buses"], "kept floor1")

        # A meter's interval changed: its bus restarts.
        with open(rig.config, "w") as f:
            f.write(original.replace("interval_s = 1", "interval_s = 2", 1))
        os.kill(daemon.pid, signal.SIGHUP)
        wait_for(lambda: len(rig.feed.events("config_reloaded")) >= 2, 30, "the second reload")
        self.assertEqual(rig.feed.events("config_reloaded")[-1]["details"]["buses"], "restarted floor1")

        # A broken file: refused, the daemon keeps polling with what it had.
        with open(rig.config, "w") as f:
            f.write(original + "\n[[meter]]\nid = \"E-0001\"\n")
        os.kill(daemon.pid, signal.SIGHUP)
        failed = wait_for(lambda: rig.feed.events("config_reload_failed"), 30,
                          "the config_reload_failed event")
        self.assertIn("meter[4].bus: missing required key", failed[-1]["details"]["errors"])
        self.assertIn("reload refused", read_log(daemon))
        e1 = readings_of(rig, "E-0001")
        wait_for(lambda: readings_of(rig, "E-0001") >= e1 + 2, 30, "polling to go on")
        self.assertIsNone(daemon.poll())

        # config_reload from the cloud: refused while the file is broken, then applied.
        ack = self.command("config_reload")
        self.assertFalse(ack["ok"])
        self.assertIn("not valid", ack["error"])
        with open(rig.config, "w") as f:
            f.write(original)
        before = len(rig.feed.events("config_reloaded"))
        self.assertTrue(self.command("config_reload")["ok"])
        wait_for(lambda: len(rig.feed.events("config_reloaded")) > before, 30,
                 "the reload the cloud asked for")
        self.assertEqual(rig.feed.events("config_reloaded")[-1]["details"]["buses"], "restarted floor1")

    def reload(self, *args):
        return subprocess.run([ECMGW, "reload", *args], capture_output=True, text=True, timeout=180)

    def test_ecmgw_reload_waits_for_the_outcome(self):
        rig = self.rig
        socket = os.path.join(rig.workdir, "control.sock")
        wait_for(lambda: os.path.exists(socket), 30, "the control socket")
        with open(rig.config) as f:
            original = f.read()
        out = self.reload("--socket", socket)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, "reloaded: kept floor1\n")

        # A broken file: refused with its errors, and the bus polls on.
        with open(rig.config, "w") as f:
            f.write(original + "\n[[meter]]\nid = \"E-0001\"\n")
        out = self.reload("--socket", socket)
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn("reload refused; the running configuration stays in force", out.stderr)
        self.assertIn("meter[4].bus: missing required key", out.stderr)
        e1 = readings_of(rig, "E-0001")
        wait_for(lambda: readings_of(rig, "E-0001") >= e1 + 2, 30, "polling to go on")

        with open(rig.config, "w") as f:
            f.write(original.replace("interval_s = 1", "interval_s = 2", 1))
        out = self.reload("--socket", socket)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, "reloaded: restarted floor1\n")

        # No control socket answers (--pid, as the unit's ExecReload= passes): SIGHUP.
        before = len(rig.feed.events("config_reloaded"))
        out = self.reload("--socket", os.path.join(rig.workdir, "none.sock"), "--pid", str(rig.daemon.pid))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("sent SIGHUP", out.stderr)
        wait_for(lambda: len(rig.feed.events("config_reloaded")) > before, 30, "the SIGHUP reload")


if __name__ == "__main__":
    unittest.main()
