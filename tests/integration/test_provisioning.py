"""The cloud's archive of tariffs, accounts and meters, and config reloads, through the
real binaries: signed tariff_set / account_set / meter_set / *_remove / config_reload
commands change what the running daemon polls and charges without a restart, are
checked by the config file's own rules (refused with the reason otherwise), and
survive a restart; SIGHUP re-reads the file, restarting only the buses that changed.

The simulator serves three DL/T 645 meters (addresses 1..3) at 10 kW on a clock
running 1000x fast, so credit runs out in seconds."""

import collections
import datetime
import decimal
import json
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


def dlt645_meter(mid, address):
    return {"id": mid, "protocol": "dlt645-2007", "address": address, "kind": "electricity",
            "quantities": ["energy_kwh", "voltage_a_v"]}


def ts_ms(rfc3339):
    t = datetime.datetime.strptime(rfc3339, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def edit_meter(text, mid, old, new):
    """The config text with `old` replaced by `new` in the [[meter]] table of `mid` only."""
    tables = text.split("\n\n")
    hit = [i for i, t in enumerate(tables) if t.startswith("[[meter]]") and f'id = "{mid}"' in t]
    assert len(hit) == 1 and old in tables[hit[0]], (mid, old)
    tables[hit[0]] = tables[hit[0]].replace(old, new)
    return "\n\n".join(tables)


class ReloadTwoBusesTest(unittest.TestCase):
    """A reload with a changed, an unchanged and an invalid config, on two buses (each
    its own line and simulator), polled every second: the changed bus restarts, the
    other keeps polling through it, a broken file changes nothing, and every record
    reaches the cloud."""

    A_POLL_S = 1
    # The longest pause between two of floor1's readings of one meter the test accepts:
    # its interval and a turn, plus slack for a loaded machine.
    A_MAX_GAP_MS = 6000

    def setUp(self):
        self.rig = Rig(meter_configs=[dlt645_meter("E-0101", "000000000101"),
                                      dlt645_meter("E-0102", "000000000102")],
                       interval_s=self.A_POLL_S,
                       more_buses={"floor2": [dlt645_meter("E-0201", "000000000201")]})
        self.rig.start_daemon()

    def tearDown(self):
        self.rig.close()

    def ecmgw(self, *args):
        return subprocess.run([ECMGW, *args, "--socket", os.path.join(self.rig.workdir, "control.sock")],
                              capture_output=True, text=True, timeout=180)

    def status(self):
        out = self.ecmgw("status", "--json")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return json.loads(out.stdout)

    def bus_requests(self):
        return {b["name"]: b["counters"]["requests"] for b in self.status()["buses"]}

    def opened(self, bus):
        return read_log(self.rig.daemon).count(f"bus {bus}: opened")

    def published(self, meter):
        """The readings of `meter` received over MQTT, one per seq, in seq order."""
        return sorted({r["seq"]: r for r in self.rig.feed.readings() if r["meter"] == meter}.values(),
                      key=lambda r: r["seq"])

    def wait_published(self, meter, after_seq, n, what):
        return wait_for(lambda: (lambda rs: rs if len(rs) >= n else None)(
            [r for r in self.published(meter) if r["seq"] > after_seq]), 60, what)

    def rewrite(self, text):
        with open(self.rig.config, "w") as f:
            f.write(text)

    def test_reload_with_a_changed_an_unchanged_and_an_invalid_config(self):
        rig = self.rig
        with open(rig.config) as f:
            original = f.read()
        self.wait_published("E-0101", 0, 3, "floor1's first readings")
        self.wait_published("E-0201", 0, 3, "floor2's first readings")
        # Enough requests on floor2 that a fresh poller's count is plainly lower.
        wait_for(lambda: self.bus_requests()["floor2"] >= 20, 60, "20 requests on floor2")
        first_reload_ms = ts_ms(self.published("E-0101")[-1]["ts"])

        # 1. floor2's meter reads other quantities: `ecmgw reload` restarts floor2 only.
        changed = edit_meter(original, "E-0201", '"voltage_a_v"', '"current_a_a"')
        self.rewrite(changed)
        before, opened1, opened2 = self.bus_requests(), self.opened("floor1"), self.opened("floor2")
        out = self.ecmgw("reload")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, "reloaded: kept floor1; restarted floor2\n")
        after = self.bus_requests()
        # Kept: the same poller, its statistics intact; restarted: a new one, counting anew.
        self.assertGreaterEqual(after["floor1"], before["floor1"])
        self.assertLess(after["floor2"], before["floor2"])
        wait_for(lambda: self.opened("floor2") > opened2, 30, "floor2 to open its port again")
        self.assertEqual(self.opened("floor1"), opened1)
        reloaded = wait_for(lambda: rig.feed.events("config_reloaded"), 30, "the config_reloaded event")
        self.assertEqual(reloaded[-1]["details"]["buses"], "kept floor1; restarted floor2")
        # The new quantities are read; once they are, the old poller is gone.
        new_q = wait_for(lambda: [r for r in self.published("E-0201") if r["quantity"] == "current_a_a"],
                         60, "E-0201's current_a_a")
        later = self.wait_published("E-0201", new_q[0]["seq"], 3, "more of E-0201's readings")
        self.assertEqual({r["quantity"] for r in later}, {"energy_kwh", "current_a_a"})

        # 2. floor2's interval changed, reloaded by SIGHUP: again floor2 alone restarts.
        opened2 = self.opened("floor2")
        self.rewrite(edit_meter(changed, "E-0201", "interval_s = 1", "interval_s = 2"))
        os.kill(rig.daemon.pid, signal.SIGHUP)
        wait_for(lambda: len(rig.feed.events("config_reloaded")) >= 2, 30, "the SIGHUP reload")
        self.assertEqual(rig.feed.events("config_reloaded")[-1]["details"]["buses"],
                         "kept floor1; restarted floor2")
        wait_for(lambda: self.opened("floor2") > opened2, 30, "floor2 to open its port again")
        self.assertEqual(self.opened("floor1"), opened1)

        # floor1 polled on through both reloads without a pause.
        reload_seq = rig.feed.events("config_reloaded")[-1]["seq"]
        self.wait_published("E-0101", reload_seq, 4, "floor1's readings after the reloads")
        self.wait_published("E-0201", reload_seq, 2, "floor2's readings after the reloads")
        for mid in ("E-0101", "E-0102"):
            times = sorted({ts_ms(r["ts"]) for r in self.published(mid) if r["quantity"] == "energy_kwh"})
            around = [t for t in times if t >= first_reload_ms - 5000]
            gaps = [b - a for a, b in zip(around, around[1:])]
            self.assertGreater(len(gaps), 4)
            self.assertLessEqual(max(gaps), self.A_MAX_GAP_MS, f"{mid}'s readings paused across the reloads")

        # 3. A broken file (one wrong value) beside a valid change: refused, naming the
        # line; nothing changes, both buses poll on.
        with open(rig.config) as f:
            good = f.read()
        broken = good.replace("baud = 2400", 'baud = "fast"', 1) + (
            '\n[[meter]]\nid = "E-0202"\nbus = "floor2"\nprotocol = "dlt645-2007"\n'
            'address = "000000000202"\n')
        line = broken.splitlines().index('baud = "fast"') + 1
        self.rewrite(broken)
        failed_before = len(rig.feed.events("config_reload_failed"))
        opened1, opened2 = self.opened("floor1"), self.opened("floor2")
        out = self.ecmgw("reload")
        self.assertEqual(out.returncode, 1, out.stdout)
        self.assertIn("reload refused; the running configuration stays in force", out.stderr)
        self.assertIn(f"{rig.config}:{line}:", out.stderr)
        wait_for(lambda: len(rig.feed.events("config_reload_failed")) > failed_before, 30,
                 "the config_reload_failed event")
        counts = {m: len(self.published(m)) for m in ("E-0101", "E-0201")}
        for mid, n in counts.items():
            wait_for(lambda: len(self.published(mid)) >= n + 3, 60, f"{mid} to be polled on")
        self.assertIsNone(rig.daemon.poll())
        s = self.status()
        self.assertEqual(sorted(m["id"] for m in s["meters"]), ["E-0101", "E-0102", "E-0201"])
        self.assertEqual({b["name"]: [m["id"] for m in b["meters"]] for b in s["buses"]},
                         {"floor1": ["E-0101", "E-0102"], "floor2": ["E-0201"]})
        self.assertEqual((self.opened("floor1"), self.opened("floor2")), (opened1, opened2))
        self.assertEqual({r["quantity"] for r in self.published("E-0201")[-3:]} - {"energy_kwh"},
                         {"current_a_a"})

        # 4. A clean stop: every record numbered was published or waits in the outbox,
        # gap-free, and every stored reading was published.
        rig.daemon.send_signal(signal.SIGTERM)
        self.assertEqual(rig.daemon.wait(timeout=30), 0)
        last = store_query(rig.data_dir, "SELECT value FROM sequence WHERE name = 'outbox'")[0][0]
        waiting = store_query(rig.data_dir, "SELECT seq, kind, body FROM outbox ORDER BY seq")

        def received():
            seqs = set()
            for topic, m in rig.feed.snapshot():
                seqs.update(r["seq"] for r in m[topic.rsplit("/", 1)[1]])
            return seqs
        wait_for(lambda: received() | {w[0] for w in waiting} >= set(range(1, last + 1)), 30,
                 f"every seq up to {last} over MQTT")
        sent = sorted(received())
        self.assertEqual(sent, list(range(1, len(sent) + 1)), "the seqs received must be gap-free from 1")
        self.assertEqual([w[0] for w in waiting], list(range(len(sent) + 1, last + 1)))

        def key(meter, ts, quantity, value):
            return meter, ts, quantity, decimal.Decimal(str(value))
        stored = collections.Counter(key(*row) for row in store_query(
            rig.data_dir, "SELECT meter, ts_ms, quantity, value FROM readings"))
        delivered = collections.Counter(
            key(r["meter"], ts_ms(r["ts"]), r["quantity"], r["value"])
            for r in {r["seq"]: r for r in rig.feed.readings()}.values())
        for _, kind, body in waiting:
            if kind == "reading":
                r = json.loads(body, parse_float=decimal.Decimal)
                delivered[key(r["meter"], ts_ms(r["ts"]), r["quantity"], r["value"])] += 1
        self.assertGreater(sum(stored.values()), 50)
        self.assertEqual(stored, delivered)


if __name__ == "__main__":
    unittest.main()
