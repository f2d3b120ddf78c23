"""kill -9 the daemon at random moments, many times, during rated ingest and top-ups;
restart it each time; then check the books: every balance is the sum of its ledger,
no top-up applied twice, no interval charged twice, and the outbox sequence has no
gap.

Four simulated DL/T 645 meters on two accounts, the simulator's clock running 1000
times fast (about 3 kWh a second per meter), the daemon polling every second. One
meter of each account has a relay: the daemon asserts every relay when it starts, and
a switch holds the bus for a second (the relay settles before it is read back), so
more relays would leave no time for readings within a cycle; the other two are
charged but not switched.

Where a kill lands is drawn per cycle (seeded): during start-up (0-0.3 s after the
exec), 0.1-1 s after the store is open and prepaid started (the first meter's reading
rated, relays being asserted, top-ups), or 0.1-1 s after the run stored a reading of
every meter (rated ingest of them all, after the relays' assertion). A thread publishes signed top-ups every 50 ms all along, through the one
broker that outlives every daemon: mostly new payments, some repeating a payment's
txn under a new command id, some resending a command as it was. The cycle count is
ECMGW_CRASH_CYCLES (default 200), the random seed ECMGW_CRASH_SEED (default 20261124)."""

import collections
import datetime
import decimal
import json
import os
import random
import signal
import sys
import threading
import time
import unittest

from harness import (ECMGW, Rig, command_body, read_log, sign_command, store_query, wait_for)

D = decimal.Decimal
KEY = "crash-test-command-key-5f1d7c"
CYCLES = int(os.environ.get("ECMGW_CRASH_CYCLES", "200"))
SEED = int(os.environ.get("ECMGW_CRASH_SEED", "20261124"))
ACCOUNTS = ("A-0701", "A-0702")
METERS = {"E-0701": "A-0701", "E-0702": "A-0701", "E-0703": "A-0702", "E-0704": "A-0702"}
RELAYS = {"E-0701", "E-0703"}

CONFIG = """
[[tariff]]
id = "flat"
utility = "electricity"
price = "0.5283"

[[tariff]]
id = "tiered-tou"
utility = "electricity"
periods = ["00:00-12:00 valley", "12:00-24:00 peak"]
tiers = [{ up_to = "5", prices = { peak = "0.8", valley = "0.4" } },
         { prices = { peak = "1.6", valley = "0.6" } }]

[[account]]
id = "A-0701"
tariff = "flat"
warn_fen = [2000, 500]
opening_balance_fen = 3000

[[account]]
id = "A-0702"
tariff = "tiered-tou"
warn_fen = [2000, 500]
opening_balance_fen = 3000

[prepaid]
# Let the relays follow the balance at once: cuts and restores during the crashes.
relay_min_interval_s = 0
relay_daily_max = 1000
check_interval_s = 5
"""


def ms_of(rfc3339):
    t = datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00"))
    return round(t.timestamp() * 1000)


class TopUpPublisher(threading.Thread):
    """Publishes a top-up every `period` s until stopped: 80% new payments, 10% a
    payment's txn again under a new command id, 10% a recent command resent as it was."""

    def __init__(self, rig, rng, period=0.05):
        super().__init__(daemon=True)
        self.rig, self.rng, self.period = rig, rng, period
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.commands = {}      # command id -> (account, amount_fen, txn)
        self.payments = {}      # txn -> (account, amount_fen)
        self.sent = collections.Counter()
        self.recent = collections.deque(maxlen=50)  # (id, payload) of recent commands
        self.error = None

    def run(self):
        n = 0
        try:
            while not self.stop_event.wait(self.period):
                roll = self.rng.random()
                if roll < 0.1 and self.recent:
                    _, payload = self.rng.choice(self.recent)
                    self.rig.command_sender().publish(payload)
                    self.sent["resent command"] += 1
                    continue
                with self.lock:
                    if roll < 0.2 and self.payments:
                        txn = self.rng.choice(list(self.payments)[-200:])
                        account, amount = self.payments[txn]
                        kind = "repeated txn"
                    else:
                        n += 1
                        txn = f"wx-crash-{n:06d}"
                        # About what the meters use while every relay is closed, and more than
                        # they use while cut: the balances go up and down through zero.
                        account, amount = self.rng.choice(ACCOUNTS), self.rng.randint(1, 60)
                        self.payments[txn] = (account, amount)
                        kind = "new payment"
                    body = command_body("topup", account=account, amount_fen=amount, txn=txn)
                    self.commands[body["id"]] = (account, amount, txn)
                payload = sign_command(KEY, body)
                self.rig.command_sender().publish(payload)
                self.recent.append((body["id"], payload))
                self.sent[kind] += 1
        except Exception as e:  # reported by the test, not lost in the thread
            self.error = e

    def stop(self):
        self.stop_event.set()
        self.join(timeout=30)


class CrashTest(unittest.TestCase):
    def setUp(self):
        meters = [{"id": mid, "protocol": "dlt645-2007", "address": f"00000000{mid[2:]}",
                   "kind": "electricity", "account": acct, "relay": mid in RELAYS,
                   "max_rate_per_hour": "1000000", "quantities": ["energy_kwh"]}
                  for mid, acct in METERS.items()]
        self.rig = Rig(meter_configs=meters, interval_s=1,
                       sim_args=["--speed", "1000", "--load-kw", "10"],
                       extra_config=CONFIG, command_key=KEY)
        self.publisher = None

    def tearDown(self):
        if self.publisher is not None:
            self.publisher.stop()
        self.rig.close()

    def q(self, sql):
        return store_query(self.rig.data_dir, sql)

    def spawn(self):
        """Starts the daemon with a fresh log (the previous cycle's is dropped)."""
        log = os.path.join(self.rig.workdir, "ecmgw-cycle.log")
        if os.path.exists(log):
            os.unlink(log)
        self.rig.daemon = self.rig.procs.start(
            "ecmgw-cycle", [ECMGW, "--log-level", "info", "run", "--config", self.rig.config])
        return self.rig.daemon

    def wait_ready(self, daemon, what="gateway gw-test:"):
        """Until the daemon has opened its store and started prepaid (it logs the
        gateway line after that), or `what`."""
        def ready():
            if daemon.poll() is not None:
                raise AssertionError(f"ecmgw exited with {daemon.returncode}:\n{read_log(daemon)}")
            return what in read_log(daemon)
        wait_for(ready, 60, f"ecmgw to log {what!r}", interval=0.01)

    def check_books(self, where):
        self.assertEqual(self.q("PRAGMA integrity_check"), [("ok",)], where)
        for a in ACCOUNTS:
            (bal, total), = self.q(f"SELECT balance_fen, (SELECT coalesce(sum(amount_fen), 0) FROM ledger "
                                   f"WHERE account = '{a}') FROM accounts WHERE id = '{a}'")
            self.assertEqual(bal, total, f"{where}: account {a} balance {bal} != sum(ledger) {total}")

    def test_kill_9_at_random_moments_keeps_the_books(self):
        rig, rng = self.rig, random.Random(SEED)
        started = time.monotonic()
        # The first start creates and migrates the store; then the top-ups begin.
        self.wait_ready(self.spawn())
        self.publisher = TopUpPublisher(rig, random.Random(SEED + 1))
        self.publisher.start()
        kinds = collections.Counter()
        for cycle in range(CYCLES):
            readings_before = self.q("SELECT coalesce(max(id), 0) FROM readings")[0][0]
            daemon = rig.daemon if cycle == 0 else self.spawn()
            roll = rng.random()
            if roll < 0.15:
                # During start-up: opening the store, prepaid's start.
                kinds["start-up"] += 1
                time.sleep(rng.uniform(0.0, 0.3))
            elif roll < 0.75:
                # The store is open: relays being asserted, top-ups arriving.
                kinds["store open"] += 1
                if cycle > 0:
                    self.wait_ready(daemon)
                time.sleep(rng.uniform(0.1, 1.0))
            else:
                # Rated ingest: this run has stored a reading of every meter.
                kinds["ingest"] += 1
                wait_for(lambda: daemon.poll() is not None or self.q(
                    f"SELECT count(DISTINCT meter) FROM readings WHERE id > {readings_before}")[0][0]
                    == len(METERS), 60, "a reading of every meter in this run", interval=0.02)
                time.sleep(rng.uniform(0.1, 1.0))
            if daemon.poll() is not None:
                self.fail(f"cycle {cycle}: ecmgw exited by itself with {daemon.returncode}:\n"
                          f"{read_log(daemon)}")
            daemon.send_signal(signal.SIGKILL)
            self.assertEqual(daemon.wait(timeout=30), -signal.SIGKILL)
            if self.publisher.error:
                raise self.publisher.error
            if cycle % 25 == 24:
                self.check_books(f"after cycle {cycle}")
        crashed_s = time.monotonic() - started

        # A clean run to finish: it must start, take top-ups and stop with exit code 0.
        daemon = self.spawn()
        self.wait_ready(daemon, "cloud: connected")
        applied_before = self.q("SELECT count(*) FROM ledger WHERE kind = 'topup'")[0][0]
        wait_for(lambda: self.q("SELECT count(*) FROM ledger WHERE kind = 'topup'")[0][0]
                 >= applied_before + 10, 60, "ten more top-ups in the clean run")
        self.publisher.stop()
        if self.publisher.error:
            raise self.publisher.error
        daemon.send_signal(signal.SIGTERM)
        self.assertEqual(daemon.wait(timeout=60), 0, read_log(daemon))
        self.assertIn("stopped:", read_log(daemon))

        figures = self.check_everything()
        figures.update(cycles=CYCLES, kills=dict(kinds), seed=SEED, crash_phase_s=round(crashed_s, 1))
        sent = self.publisher.sent
        print(f"\ncrash test: {CYCLES} kill -9 cycles ({dict(kinds)}), seed {SEED}, "
              f"{crashed_s:.0f} s; top-up commands sent: {sent['new payment']} new payments, "
              f"{sent['repeated txn']} repeating a txn under a new id, {sent['resent command']} resent "
              f"as they were; checked: {json.dumps(figures, sort_keys=True)}", file=sys.stderr)

    def check_everything(self):
        rig, pub = self.rig, self.publisher
        figures = {}
        self.check_books("at the end")
        self.assertEqual(self.q("PRAGMA foreign_key_check"), [])

        # No top-up applied twice: one ledger row per txn, for the account and amount paid.
        topups = self.q("SELECT account, amount_fen, idem_key, json_extract(detail, '$.txn') "
                        "FROM ledger WHERE kind = 'topup'")
        txns = [t for _, _, _, t in topups]
        self.assertEqual(len(txns), len(set(txns)), "a txn was applied twice")
        for account, amount, cause, txn in topups:
            self.assertEqual(cause, f"topup:{txn}")
            self.assertEqual(pub.payments[txn], (account, amount), txn)
        applied_ok = self.q("SELECT id FROM applied_commands WHERE type = 'topup' AND ok = 1")
        self.assertEqual(len(applied_ok), len(topups), "applied commands and top-up rows differ")
        self.assertEqual({pub.commands[i][2] for i, in applied_ok}, set(txns))
        figures["topups_applied"] = len(topups)
        figures["commands_recorded"] = self.q("SELECT count(*) FROM applied_commands")[0][0]

        # Outbox: every seq from 1 to the counter was published or is still waiting, and a
        # seq published more than once (a batch resent after a kill) had the same content.
        last_seq = self.q("SELECT value FROM sequence WHERE name = 'outbox'")[0][0]
        waiting = {seq: (kind, json.loads(body))
                   for seq, kind, body in self.q("SELECT seq, kind, body FROM outbox")}

        def received():
            out = {}
            for topic, m in rig.feed.snapshot():
                suffix = topic.rsplit("/", 1)[1]
                if suffix == "commands":
                    continue
                records = m[suffix]
                self.assertEqual((m["seq"], m["count"]), (records[0]["seq"], len(records)), m)
                for r in records:
                    out.setdefault(r["seq"], []).append((suffix, r))
            return out
        got = wait_for(lambda: (lambda r: r if set(r) | set(waiting) >= set(range(1, last_seq + 1))
                                else None)(received()), 60,
                       f"every seq up to {last_seq} published or waiting in the outbox")
        self.assertEqual(set(got) | set(waiting), set(range(1, last_seq + 1)), "a gap in the seqs")
        self.assertLessEqual(max(got), last_seq)
        for seq, copies in got.items():
            self.assertTrue(all(c == copies[0] for c in copies), f"seq {seq} published with different content")
        figures["seqs"] = last_seq
        figures["seqs_published_twice"] = sum(len(c) > 1 for c in got.values())
        figures["records_waiting"] = len(waiting)

        # Acks: the top-ups acknowledged ok are the ones applied, each txn at most once.
        acks = [r for copies in got.values() for suffix, r in copies[:1] if suffix == "acks"]
        acks += [{"seq": s, **b} for s, (k, b) in waiting.items() if k == "ack"]
        self.assertLessEqual({a["id"] for a in acks}, set(pub.commands), "an ack for a command never sent")
        ok_txns = [pub.commands[a["id"]][2] for a in acks if a["ok"]]
        self.assertEqual(len(ok_txns), len(set(ok_txns)), "a txn acknowledged ok twice")
        self.assertEqual(set(ok_txns), set(txns))
        refusals = collections.Counter(
            "duplicate command id" if "duplicate command id" in a["error"] else
            "duplicate txn" if "duplicate: topup:" in a["error"] else a["error"]
            for a in acks if not a["ok"])
        self.assertLessEqual(set(refusals), {"duplicate command id", "duplicate txn"}, refusals)
        figures["acks"] = len(acks)
        figures["refused"] = dict(refusals)

        # No interval charged twice: per meter, the charged intervals follow each other
        # without overlap, each one's cause is its start, and the rating state is past them.
        charges = 0
        for mid in METERS:
            rows = self.q(f"SELECT idem_key, detail FROM ledger WHERE kind = 'charge' AND meter = '{mid}' "
                          f"ORDER BY id")
            self.assertTrue(rows, f"no charges for {mid}")
            previous_to, previous_end = None, None
            for cause, text in rows:
                d = json.loads(text)
                start, end = ms_of(d["from"]), ms_of(d["to"])
                self.assertLess(start, end, d)
                self.assertEqual(cause, f"charge:{mid}:{start}")
                if previous_to is not None:
                    self.assertGreaterEqual(start, previous_to, f"{mid}: overlapping charges at {d['from']}")
                    self.assertGreaterEqual(D(d["end_register"]), previous_end, d)
                previous_to, previous_end = end, D(d["end_register"])
            (last_ts, last_register), = self.q(
                f"SELECT last_ts_ms, last_register FROM meter_rating WHERE meter = '{mid}'")
            self.assertGreaterEqual(last_ts, previous_to)
            self.assertGreaterEqual(D(last_register), previous_end)
            # Every interval rated is in the daily usage (charged or under a fen): the
            # usage adds up to the register's whole movement, and its cost to the charges.
            first = D(self.q(f"SELECT json_extract(body, '$.details.register') FROM events "
                             f"WHERE type = 'charging_started' AND meter = '{mid}'")[0][0])
            (used, cost), = self.q(f"SELECT sum(consumption_micro), sum(cost_pico) FROM daily_usage "
                                   f"WHERE meter = '{mid}'")
            self.assertEqual(D(used) / 1_000_000, D(last_register) - first, f"{mid}: usage != register movement")
            charged = -self.q(f"SELECT sum(amount_fen) FROM ledger WHERE kind = 'charge' AND meter = '{mid}'")[0][0]
            self.assertLessEqual(abs(D(charged) - D(cost) / 10**10), 1, f"{mid}: charged {charged} fen, "
                                                                        f"cost {D(cost) / 10**10} fen")
            charges += len(rows)
        figures["charges"] = charges
        self.assertEqual(self.q("SELECT count(*) FROM events WHERE type IN "
                                "('reading_quarantined', 'meter_rebased', 'rating_failed')"), [(0,)])
        # The relays follow the balances they were last decided on (no credit limit, no
        # restore threshold, no keep-power): on above zero, off at or below.
        for mid in sorted(RELAYS):
            (desired, bal), = self.q(f"SELECT desired, balance_fen FROM supply JOIN accounts "
                                     f"ON accounts.id = '{METERS[mid]}' WHERE meter = '{mid}'")
            self.assertEqual(desired, "on" if bal > 0 else "off", f"{mid}: balance {bal}")
        figures["readings"] = self.q("SELECT count(*) FROM readings")[0][0]
        figures["events"] = dict(self.q("SELECT type, count(*) FROM events WHERE type IN "
                                        "('supply_cut_ordered', 'supply_restore_ordered', 'supply_cut', 'supply_restored', "
                                        "'credit_exhausted', 'low_balance') GROUP BY type"))
        figures["balances_fen"] = dict(self.q("SELECT id, balance_fen FROM accounts"))
        return figures


if __name__ == "__main__":
    unittest.main()
