"""Prepaid at the edge, through the real binaries: simulated DL/T 645 meters with
relays on a pty pair, the daemon rating their registers, a real mosquitto.

The simulator runs its clock fast (--speed) so that credit runs out in seconds."""

import decimal
import os
import shutil
import tempfile
import unittest

from harness import Rig, store_query, wait_for, read_log

D = decimal.Decimal

TARIFFS = """
[[tariff]]
id = "res-flat"
utility = "electricity"
price = "0.5283"

[[tariff]]
id = "res-tou"
utility = "electricity"
prices = { peak = "0.9", valley = "0.3" }
periods = ["00:00-12:00 valley", "12:00-24:00 peak"]
"""


def account(aid, tariff, opening_fen, extra=""):
    return f"""
[[account]]
id = "{aid}"
tariff = "{tariff}"
warn_fen = [2000, 500]
credit_limit_fen = 0
opening_balance_fen = {opening_fen}
{extra}
"""


def meter(mid, address, acct, relay=True, **extra):
    m = {"id": mid, "protocol": "dlt645-2007", "address": address, "kind": "electricity",
         "account": acct, "relay": relay, "max_rate_per_hour": "1000000",
         "quantities": ["energy_kwh"]}
    m.update(extra)
    return m


def balance(rig, aid):
    return store_query(rig.data_dir, f"SELECT balance_fen FROM accounts WHERE id = '{aid}'")[0][0]


def ledger_sum(rig, aid):
    return store_query(rig.data_dir,
                       f"SELECT coalesce(sum(amount_fen), 0) FROM ledger WHERE account = '{aid}'")[0][0]


def supply(rig, mid):
    rows = store_query(rig.data_dir,
                       f"SELECT desired, reason, observed FROM supply WHERE meter = '{mid}'")
    return rows[0] if rows else None


class PrepaidTest(unittest.TestCase):
    def tearDown(self):
        if getattr(self, "rig", None):
            self.rig.close()

    def start(self, meters, accounts, sim_args=(), prepaid=""):
        self.rig = Rig(meter_configs=meters, interval_s=1,
                       sim_args=["--speed", "1000", "--load-kw", "10", *sim_args],
                       extra_config=TARIFFS + accounts + prepaid)
        self.rig.start_daemon()
        return self.rig

    def test_flat_tariff_charges_what_the_register_moved_and_cuts_when_credit_runs_out(self):
        rig = self.start([meter("E-0101", "000000000101", "A-0101")],
                         account("A-0101", "res-flat", 2600))
        # 10 kW at 1000× is 10,000 kWh/h of simulated load, about 1.5 yuan a second.
        wait_for(lambda: supply(rig, "E-0101") and supply(rig, "E-0101")[0] == "off", 120,
                 "the meter to be cut when credit runs out")
        wait_for(lambda: supply(rig, "E-0101")[2] == "off", 60,
                 "the simulated meter's relay to be read back open")
        self.assertEqual(balance(rig, "A-0101"), ledger_sum(rig, "A-0101"))
        # What was charged is the charged register movement times the price (±1 fen).
        last = store_query(rig.data_dir, "SELECT last_register FROM meter_rating")[0][0]
        start_register = D(store_query(
            rig.data_dir, "SELECT json_extract(body, '$.details.register') FROM events "
                          "WHERE type = 'charging_started'")[0][0])
        charged = -sum(r[0] for r in store_query(
            rig.data_dir, "SELECT amount_fen FROM ledger WHERE kind = 'charge'"))
        expected = (D(last) - start_register) * D("0.5283") * 100
        self.assertLessEqual(abs(D(charged) - expected), 1, f"charged {charged} fen, expected {expected}")
        # Warnings fired once per threshold crossing, and the cut was announced.
        wait_for(lambda: len(rig.feed.events("supply_cut")) >= 1, 60, "the supply_cut event over MQTT")
        lows = sorted(e["details"]["threshold_fen"] for e in rig.feed.events("low_balance"))
        self.assertEqual(lows, [500, 2000])
        self.assertEqual(len(rig.feed.events("credit_exhausted")), 1)
        # Once cut, the relay is open: the register stops and nothing more is charged.
        # The first reading after the read-back closes the last interval with load;
        # the three after it must cost nothing.
        opened_ms = store_query(rig.data_dir,
                                "SELECT observed_ms FROM supply WHERE meter = 'E-0101'")[0][0]

        def readings_after(ts_ms):
            return store_query(rig.data_dir,
                               "SELECT ts_ms FROM readings WHERE meter = 'E-0101' AND "
                               f"quantity = 'energy_kwh' AND ts_ms > {ts_ms} ORDER BY ts_ms")

        first = wait_for(lambda: readings_after(opened_ms), 30, "a reading after the cut")[0][0]
        wait_for(lambda: store_query(rig.data_dir, "SELECT last_ts_ms FROM meter_rating "
                                                   "WHERE meter = 'E-0101'")[0][0] >= first,
                 30, "that reading to be rated")
        charged_at_cut = ledger_sum(rig, "A-0101")
        later = wait_for(lambda: (lambda r: r if len(r) >= 3 else None)(readings_after(first)),
                         30, "three more readings with the relay open")
        wait_for(lambda: store_query(rig.data_dir, "SELECT last_ts_ms FROM meter_rating "
                                                   "WHERE meter = 'E-0101'")[0][0] >= later[2][0],
                 30, "those readings to be rated")
        self.assertEqual(ledger_sum(rig, "A-0101"), charged_at_cut)
        self.assertIn("supply: switching E-0101 off", read_log(rig.daemon))

    def test_keep_power_account_is_never_cut(self):
        rig = self.start([meter("E-0102", "000000000102", "A-0102")],
                         account("A-0102", "res-flat", 200, "keep_power = true"))
        wait_for(lambda: balance(rig, "A-0102") < -100, 120, "the balance to go well below zero")
        self.assertEqual(supply(rig, "E-0102")[:2], ("on", "keep_power"))
        self.assertEqual(rig.feed.events("supply_cut"), [])

    def test_no_cut_inside_a_friendly_period(self):
        rig = self.start([meter("E-0103", "000000000103", "A-0103")],
                         account("A-0103", "res-flat", 200),
                         prepaid='\n[prepaid]\nfriendly_hours = ["00:00-24:00"]\n')
        wait_for(lambda: balance(rig, "A-0103") < 0, 120, "credit to run out")
        wait_for(lambda: supply(rig, "E-0103")[1] == "friendly_period", 30,
                 "the cut to be deferred")
        self.assertEqual(supply(rig, "E-0103")[0], "on")

    def test_meter_without_relay_is_charged_but_not_switched(self):
        rig = self.start([meter("E-0104", "000000000104", "A-0104", relay=False)],
                         account("A-0104", "res-flat", 100))
        wait_for(lambda: balance(rig, "A-0104") < 0, 120, "credit to run out")
        self.assertIsNone(supply(rig, "E-0104"))
        self.assertEqual(balance(rig, "A-0104"), ledger_sum(rig, "A-0104"))


class SupplyCheckTest(unittest.TestCase):
    """Periodic supply verification: the simulator switches a meter's relay by hand
    (--hand-file), behind the gateway's back, and the gateway notices at its next
    check (every second here) and makes the meter follow its desired state again."""

    def setUp(self):
        self.hand_dir = tempfile.mkdtemp(prefix="ecmgw-hand-")
        self.hand_file = os.path.join(self.hand_dir, "hand")
        self.rig = None

    def tearDown(self):
        if self.rig:
            self.rig.close()
        shutil.rmtree(self.hand_dir, ignore_errors=True)

    def start(self, meters, accounts):
        self.rig = Rig(meter_configs=meters, interval_s=1,
                       sim_args=["--speed", "1000", "--load-kw", "10",
                                 "--hand-file", self.hand_file],
                       extra_config=TARIFFS + accounts +
                       "\n[prepaid]\nsupply_check_interval_s = 1\nrelay_min_interval_s = 0\n")
        self.rig.start_daemon()
        return self.rig

    def by_hand(self, meter_id, state):
        with open(self.hand_file, "a") as f:
            f.write(f"{meter_id} {state}\n")

    def checks_read(self, rig, meter_id, state):
        return read_log(rig.daemon).count(f"meter {meter_id}: supply check reads {state}")

    def outside_events(self, rig, meter_id):
        return [e for e in rig.feed.events("supply_changed_outside") if e.get("meter") == meter_id]

    def test_a_cut_meter_closed_by_hand_is_noticed_and_cut_again(self):
        rig = self.start([meter("E-0111", "000000000111", "A-0111")],
                         account("A-0111", "res-flat", 200))
        wait_for(lambda: supply(rig, "E-0111") == ("off", "credit_exhausted", "off"), 120,
                 "the meter to be cut for credit and read back open")
        wait_for(lambda: len(rig.feed.events("supply_cut")) == 1, 30, "the supply_cut event")
        # The checks that agree are quiet.
        wait_for(lambda: self.checks_read(rig, "E-0111", "off") >= 2, 30,
                 "two supply checks to read the relay open")
        self.assertEqual(self.outside_events(rig, "E-0111"), [])
        self.by_hand("E-0111", "on")
        event = wait_for(lambda: (self.outside_events(rig, "E-0111") or [None])[0], 30,
                         "the gateway to notice the relay closed behind its back")
        self.assertEqual(event["details"]["observed"], "on")
        self.assertEqual(event["details"]["previous"], "off")
        self.assertEqual(event["details"]["desired"], "off")
        self.assertEqual(event["details"]["reason"], "credit_exhausted")
        self.assertTrue(event["details"]["switching_back"])
        self.assertEqual(event["account"], "A-0111")
        # Cut again, and the cut is reported as the cut it is.
        wait_for(lambda: len(rig.feed.events("supply_cut")) == 2, 30, "the second supply_cut")
        self.assertEqual(supply(rig, "E-0111"), ("off", "credit_exhausted", "off"))
        self.assertEqual(read_log(rig.daemon).count("supply: switching E-0111 off"), 2)
        self.assertEqual(balance(rig, "A-0111"), ledger_sum(rig, "A-0111"))

    def test_a_supplied_meter_tripped_by_hand_is_restored(self):
        rig = self.start([meter("E-0112", "000000000112", "A-0112")],
                         account("A-0112", "res-flat", 1_000_000_000))
        wait_for(lambda: supply(rig, "E-0112") == ("on", "credit", "on"), 30,
                 "the start-up assertion to read the relay closed")
        wait_for(lambda: self.checks_read(rig, "E-0112", "on") >= 2, 30,
                 "two supply checks to read the relay closed")
        self.assertEqual(self.outside_events(rig, "E-0112"), [])
        self.by_hand("E-0112", "off")
        event = wait_for(lambda: (self.outside_events(rig, "E-0112") or [None])[0], 30,
                         "the gateway to notice the relay tripped behind its back")
        self.assertEqual(event["details"]["observed"], "off")
        self.assertEqual(event["details"]["desired"], "on")
        self.assertTrue(event["details"]["switching_back"])
        restored = wait_for(lambda: (rig.feed.events("supply_restored") or [None])[0], 30,
                            "the meter to be restored")
        self.assertEqual(restored["details"]["previous"], "off")
        self.assertEqual(supply(rig, "E-0112"), ("on", "credit", "on"))
        self.assertIn("supply: switching E-0112 on", read_log(rig.daemon))


if __name__ == "__main__":
    unittest.main()
