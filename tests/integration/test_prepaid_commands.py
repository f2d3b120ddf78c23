"""Prepaid commands from the cloud, through the real binaries: signed commands on
ecm/v1/gw-test/commands, acknowledgements on ecm/v1/gw-test/acks, the simulated
DL/T 645 meters' relays read back, and the rating of what the registers moved.

The simulator runs its clock fast (--speed 1000 at 10 kW: about 2.8 kWh a second),
so credit runs out in seconds. Every test has its own rig."""

import datetime
import decimal
import json
import unittest

from harness import (ECMGW_SIM, Rig, command_body, publish_command, read_log, rfc3339_now,
                     sign_command, store_query, wait_for)

D = decimal.Decimal
KEY = "k3y-for-the-integration-tests-0123456789abcdef"

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

[[tariff]]
id = "res-tiered"
utility = "electricity"
tiers = [{ up_to = "5", price = "0.5" }, { price = "1.0" }]

[[tariff]]
id = "res-tiered-tou"
utility = "electricity"
periods = ["00:00-12:00 valley", "12:00-24:00 peak"]
tiers = [{ up_to = "5", prices = { peak = "0.8", valley = "0.4" } },
         { prices = { peak = "1.6", valley = "0.6" } }]
"""
# The relay's protection (one switch a minute) would make every restore after a cut,
# and every cut after the start-up assertion, wait a minute: off for these tests.
PREPAID = """
[prepaid]
relay_min_interval_s = 0
relay_daily_max = 1000
"""
TOU_PRICES = {"valley": D("0.3"), "peak": D("0.9")}
TIERED_PRICES = {1: D("0.5"), 2: D("1.0")}
TIERED_TOU_PRICES = {(1, "peak"): D("0.8"), (1, "valley"): D("0.4"),
                     (2, "peak"): D("1.6"), (2, "valley"): D("0.6")}


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


def meter(mid, address, acct=None, relay=True, **extra):
    m = {"id": mid, "protocol": "dlt645-2007", "address": address, "kind": "electricity",
         "relay": relay, "max_rate_per_hour": "1000000", "quantities": ["energy_kwh"]}
    if acct:
        m["account"] = acct
    m.update(extra)
    return m


def q(rig, sql):
    return store_query(rig.data_dir, sql)


def balance(rig, aid):
    return q(rig, f"SELECT balance_fen FROM accounts WHERE id = '{aid}'")[0][0]


def ledger_sum(rig, aid):
    return q(rig, f"SELECT coalesce(sum(amount_fen), 0) FROM ledger WHERE account = '{aid}'")[0][0]


def supply(rig, mid):
    rows = q(rig, f"SELECT desired, reason, observed, force FROM supply WHERE meter = '{mid}'")
    return rows[0] if rows else None


def observed(rig, mid, state):
    s = supply(rig, mid)
    return s is not None and s[2] == state


def topup(account_id, amount_fen, txn, **kw):
    return command_body("topup", account=account_id, amount_fen=amount_fen, txn=txn, **kw)


def charge_rows(rig, mid):
    """(amount_fen, detail dict) of the meter's charges, in ledger order."""
    return [(a, json.loads(d)) for a, d in q(
        rig, f"SELECT amount_fen, detail FROM ledger WHERE kind = 'charge' AND meter = '{mid}' ORDER BY id")]


def utc_time(rfc3339):
    return datetime.datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).astimezone(
        datetime.timezone.utc)


class CommandRig(unittest.TestCase):
    def tearDown(self):
        if getattr(self, "rig", None):
            self.rig.close()

    def start(self, meters, accounts, sim_args=("--load-kw", "10"), cloud=None):
        self.rig = Rig(meter_configs=meters, interval_s=1,
                       sim_args=["--speed", "1000", *sim_args],
                       extra_config=TARIFFS + accounts + PREPAID, command_key=KEY, cloud=cloud)
        self.rig.start_daemon()
        return self.rig

    def assert_books_balance(self, rig, *accounts):
        for a in accounts:
            # One statement, one snapshot: the daemon may be charging meanwhile.
            (bal, total), = q(rig, f"SELECT balance_fen, (SELECT coalesce(sum(amount_fen), 0) FROM ledger "
                                   f"WHERE account = '{a}') FROM accounts WHERE id = '{a}'")
            self.assertEqual(bal, total, f"account {a}: balance != sum(ledger)")
        self.assertEqual(q(rig, "PRAGMA integrity_check")[0][0], "ok")

    def send(self, body, **kw):
        return publish_command(self.rig, body, **kw)

    def ack_of(self, body, **kw):
        """Sends `body` and returns its acknowledgement."""
        self.send(body, **kw)
        return self.rig.wait_ack(body["id"])


class TopUpTest(CommandRig):
    def test_top_up_after_the_cut_restores_supply(self):
        rig = self.start([meter("E-0101", "000000000101", "A-0101")], account("A-0101", "res-flat", 300))
        wait_for(lambda: observed(rig, "E-0101", "off"), 120,
                 "the simulated meter's relay to be read back open when credit runs out")
        self.assertEqual(supply(rig, "E-0101")[0], "off")
        before = balance(rig, "A-0101")
        self.assertLessEqual(before, 0)

        ack = self.ack_of(topup("A-0101", 10000, "wx-4200001234"))
        self.assertEqual(ack, {"seq": ack["seq"], "id": ack["id"], "ok": True}, ack)
        wait_for(lambda: observed(rig, "E-0101", "on"), 60, "the relay to be read back closed")
        self.assertEqual(supply(rig, "E-0101")[0], "on")
        wait_for(lambda: rig.feed.events("supply_restored"), 60, "the supply_restored event over MQTT")
        restored = rig.feed.events("supply_restored")
        self.assertEqual([e["meter"] for e in restored], ["E-0101"])

        rows = q(rig, "SELECT amount_fen, idem_key, json_extract(detail, '$.txn') FROM ledger "
                      "WHERE kind = 'topup'")
        self.assertEqual(rows, [(10000, "topup:wx-4200001234", "wx-4200001234")])
        published = wait_for(lambda: [r for r in rig.feed.records("ledger") if r["kind"] == "topup"], 30,
                             "the top-up's ledger record over MQTT")
        self.assertEqual(published[0]["cause"], "topup:wx-4200001234")
        self.assertEqual(published[0]["amount_fen"], 10000)
        self.assertEqual(q(rig, "SELECT type, ok FROM applied_commands WHERE id = '%s'" % ack["id"]),
                         [("topup", 1)])
        self.assert_books_balance(rig, "A-0101")
        self.assertIn(f"command {ack['id']} (topup) applied", read_log(rig.daemon))

    def test_a_top_up_is_credited_once_however_often_it_arrives(self):
        rig = self.start([meter("E-0102", "000000000102")], account("A-0102", "res-flat", 5000))
        first = topup("A-0102", 2500, "wx-4200005555")
        self.assertTrue(self.ack_of(first)["ok"])
        # The same command again (the cloud resent it): refused by its id.
        self.send(first)
        acks = wait_for(lambda: len(rig.acks(first["id"])) >= 2 and rig.acks(first["id"]), 30,
                        "the second acknowledgement of the resent command")
        self.assertFalse(acks[1]["ok"])
        self.assertIn("duplicate", acks[1]["error"])
        # Another command for the same payment: refused by its transaction id.
        again = topup("A-0102", 2500, "wx-4200005555")
        ack = self.ack_of(again)
        self.assertFalse(ack["ok"])
        self.assertIn("duplicate", ack["error"])
        self.assertIn("topup:wx-4200005555", ack["error"])

        self.assertEqual(q(rig, "SELECT count(*), sum(amount_fen) FROM ledger WHERE kind = 'topup'"),
                         [(1, 2500)])
        self.assertEqual(balance(rig, "A-0102"), 7500)
        self.assertEqual(q(rig, f"SELECT ok FROM applied_commands WHERE id = '{again['id']}'"), [(0,)])
        self.assert_books_balance(rig, "A-0102")


class RefusedCommandsTest(CommandRig):
    """Refused commands change nothing. The account has no meter, so its balance
    moves only by command; a meter without an account gives the bus something to do."""

    def setUp(self):
        self.start([meter("E-0201", "000000000201", relay=False)], account("A-0201", "res-flat", 5000),
                   cloud={"command_max_age_s": 60})

    def assert_nothing_changed(self):
        rig = self.rig
        self.assertEqual(balance(rig, "A-0201"), 5000)
        self.assertEqual(q(rig, "SELECT kind, amount_fen FROM ledger"), [("opening", 5000)])
        self.assertEqual(q(rig, "SELECT count(*) FROM applied_commands WHERE ok = 1"), [(0,)])
        self.assertEqual(q(rig, "SELECT type FROM events"), [("account_created",)])
        self.assertEqual(q(rig, "SELECT count(*) FROM supply"), [(0,)])
        self.assertIsNone(rig.daemon.poll(), "the daemon must keep running")

    def sync(self):
        """A valid command after the ones under test: once it is acknowledged, the
        daemon has handled everything sent before it (commands are handled in order)."""
        body = command_body("keep_power", account="A-0201", on=False)
        ack = self.ack_of(body)
        self.assertTrue(ack["ok"], ack)
        return body["id"]

    def test_a_bad_hmac_is_refused_and_its_id_stays_usable(self):
        rig = self.rig
        body = topup("A-0201", 1000, "wx-4200007777")
        ack = self.ack_of(body, key="not-the-gateway-key")
        self.assertFalse(ack["ok"])
        self.assertEqual(ack["id"], body["id"])
        self.assertIn("hmac does not match", ack["error"])
        # A forged id is named but not recorded: the real command with that id still applies.
        self.assertEqual(q(rig, f"SELECT count(*) FROM applied_commands WHERE id = '{body['id']}'"), [(0,)])
        self.assertEqual(balance(rig, "A-0201"), 5000)
        self.assertEqual(q(rig, "SELECT count(*) FROM ledger"), [(1,)])
        # The hmac of a changed body (amount raised after signing) does not match either.
        signed = json.loads(sign_command(KEY, body))
        self.assertIn('"amount_fen":1000,', signed["body"])
        signed["body"] = signed["body"].replace('"amount_fen":1000,', '"amount_fen":9000,')
        self.send(None, raw=json.dumps(signed).encode())
        wait_for(lambda: len(rig.acks(body["id"])) >= 2, 30, "the tampered command's refusal")
        self.assertFalse(rig.acks(body["id"])[1]["ok"])
        self.assertEqual(balance(rig, "A-0201"), 5000)

        self.send(body)
        acks = wait_for(lambda: len(rig.acks(body["id"])) >= 3 and rig.acks(body["id"]), 30,
                        "the correctly signed command's acknowledgement")
        self.assertTrue(acks[2]["ok"], acks[2])
        self.assertEqual(balance(rig, "A-0201"), 6000)
        self.assertEqual(q(rig, f"SELECT ok FROM applied_commands WHERE id = '{body['id']}'"), [(1,)])

    def test_refused_bodies_are_acknowledged_and_change_nothing(self):
        rig = self.rig
        cases = [
            ("stale", topup("A-0201", 1000, "wx-stale", issued_at=rfc3339_now(-120)), "stale"),
            ("from the future", topup("A-0201", 1000, "wx-future", issued_at=rfc3339_now(+120)),
             "after the gateway's time"),
            ("negative amount", topup("A-0201", -1000, "wx-negative"), "must be positive"),
            ("zero amount", topup("A-0201", 0, "wx-zero"), "must be positive"),
            ("absurd amount", topup("A-0201", 100_000_001, "wx-absurd"), "absurd amount"),
            ("huge amount", topup("A-0201", 2 ** 63 + 5, "wx-huge"), "absurd amount"),
            ("amount beyond 64 bits", topup("A-0201", 2 ** 64 + 5, "wx-huger"), "integer number of fen"),
            ("float amount", topup("A-0201", 100.5, "wx-float"), "integer number of fen"),
            ("float with zero fraction", topup("A-0201", 100.0, "wx-float0"), "integer number of fen"),
            ("string amount", topup("A-0201", "100", "wx-string"), "must be an integer"),
            ("unknown account", topup("A-9999", 1000, "wx-unknown"), "unknown account A-9999"),
            ("unknown type", command_body("pay_bill", account="A-0201", amount_fen=1000),
             "unknown command type"),
            ("read_now of an unknown meter", command_body("read_now", meter="E-9999"),
             "no meter E-9999"),
            ("unknown field", topup("A-0201", 1000, "wx-field", note="x"), "unknown field"),
            ("missing txn", command_body("topup", account="A-0201", amount_fen=1000), "txn is missing"),
            ("unknown meter", command_body("supply_force", meter="E-9999", state="off"),
             "unknown meter E-9999"),
            ("meter without relay", command_body("supply_force", meter="E-0201", state="off"),
             "has no relay"),
            ("bad supply state", command_body("supply_force", meter="E-0201", state="sideways"),
             "must be \"on\", \"off\" or \"none\""),
        ]
        for what, body, error in cases:
            with self.subTest(what):
                ack = self.ack_of(body)
                self.assertFalse(ack["ok"], ack)
                self.assertEqual(ack["id"], body["id"])
                self.assertIn(error, ack["error"])
                # An authentic refusal is recorded, so a replay of it is refused too.
                self.assertEqual(q(rig, f"SELECT ok FROM applied_commands WHERE id = '{body['id']}'"), [(0,)])
        self.assert_nothing_changed()
        self.assertEqual(len(rig.acks()), len(cases))

    def test_an_oversized_command_is_refused_with_an_acknowledgement_and_its_id_stays_usable(self):
        rig = self.rig
        body = topup("A-0201", 1000, "wx-oversized")
        oversized = dict(body, pad="x" * (70 * 1024))
        ack = self.ack_of(oversized)
        self.assertFalse(ack["ok"], ack)
        self.assertIn("too large", ack["error"])
        self.assertIn("more than the limit of 65536 bytes", ack["error"])
        self.assertIn("too large", read_log(rig.daemon))
        # Read only for its id, which is not authenticated: not recorded, nothing done.
        self.assertEqual(q(rig, f"SELECT count(*) FROM applied_commands WHERE id = '{body['id']}'"), [(0,)])
        self.assertEqual(balance(rig, "A-0201"), 5000)
        # Beyond 1 MiB a payload is not read at all: logged, not acknowledged.
        huge = topup("A-0201", 1000, "wx-huge-payload")
        huge["pad"] = "x" * (1024 * 1024)
        self.send(huge)
        self.sync()
        self.assertIn("(not read)", read_log(rig.daemon))
        self.assertEqual(rig.acks(huge["id"]), [])
        # The id stays usable: the command, sent at its proper size, applies.
        self.send(body)
        acks = wait_for(lambda: len(rig.acks(body["id"])) >= 2 and rig.acks(body["id"]), 30,
                        "the command's acknowledgement at its proper size")
        self.assertTrue(acks[1]["ok"], acks[1])
        self.assertEqual(balance(rig, "A-0201"), 6000)

    def test_unreadable_payloads_are_logged_and_dropped(self):
        rig = self.rig
        payloads = [
            ("envelope not JSON", b'{"body": "{\\"id\\":\\"c-x\\"", "hmac": ', "the envelope is not valid JSON"),
            ("envelope not an object", b'["body", "hmac"]', "the envelope must be a JSON object"),
            ("envelope with an extra field", json.dumps({"body": "{}", "hmac": "0" * 64, "x": 1}).encode(),
             "unexpected envelope field"),
            ("body not JSON", sign_command(KEY, "topup A-0201 1000 fen please"), "the body is not valid JSON"),
            ("body not an object", sign_command(KEY, "[1, 2, 3]"), "the body must be a JSON object"),
            ("empty payload", b"", "the envelope is"),
        ]
        for what, payload, _ in payloads:
            with self.subTest(what):
                self.send(None, raw=payload)
        sync_id = self.sync()
        log = read_log(rig.daemon)
        for what, _, line in payloads:
            with self.subTest(what):
                self.assertIn(line, log)
        self.assertEqual([a["id"] for a in rig.acks()], [sync_id], "none of these can be acknowledged")
        self.assertIsNone(rig.daemon.poll(), "the daemon must keep running")
        self.assertEqual(balance(rig, "A-0201"), 5000)
        self.assertEqual(q(rig, "SELECT kind FROM ledger"), [("opening",)])
        self.assertEqual(q(rig, "SELECT id FROM applied_commands"), [(sync_id,)])


class SupplyCommandsTest(CommandRig):
    def test_forcing_supply_off_and_releasing_it(self):
        rig = self.start([meter("E-0301", "000000000301", "A-0301")],
                         account("A-0301", "res-flat", 100_000_000))
        wait_for(lambda: observed(rig, "E-0301", "on"), 60, "the relay to be read back closed")
        ack = self.ack_of(command_body("supply_force", meter="E-0301", state="off"))
        self.assertTrue(ack["ok"], ack)
        wait_for(lambda: observed(rig, "E-0301", "off"), 60, "the forced-off relay to be read back open")
        self.assertEqual(supply(rig, "E-0301")[0], "off")
        self.assertEqual(supply(rig, "E-0301")[3], "off")
        forced = wait_for(lambda: rig.feed.events("supply_forced"), 30, "the supply_forced event")
        self.assertEqual(forced[0]["details"]["force"], "off")
        self.assertEqual(forced[0]["details"]["by"], f"cloud command {ack['id']}")

        ack = self.ack_of(command_body("supply_force", meter="E-0301", state="none"))
        self.assertTrue(ack["ok"], ack)
        wait_for(lambda: observed(rig, "E-0301", "on"), 60, "the released relay to be read back closed")
        self.assertEqual(supply(rig, "E-0301")[0::3], ("on", "none"))
        restored = wait_for(lambda: rig.feed.events("supply_restored"), 30, "the supply_restored event")
        self.assertEqual(restored[-1]["meter"], "E-0301")
        cut = wait_for(lambda: rig.feed.events("supply_cut"), 30, "the supply_cut event")
        self.assertEqual(cut[0]["details"]["reason"], "forced_off")
        self.assert_books_balance(rig, "A-0301")

    def test_keep_power_keeps_supply_on_when_credit_runs_out(self):
        # 1500 fen last about 10 s at 10 kW x 1000 and 0.5283 yuan/kWh; the command
        # takes well under a second.
        rig = self.start([meter("E-0302", "000000000302", "A-0302")],
                         account("A-0302", "res-flat", 1500))
        ack = self.ack_of(command_body("keep_power", account="A-0302", on=True))
        self.assertTrue(ack["ok"], ack)
        self.assertGreater(balance(rig, "A-0302"), 0, "credit ran out before the command arrived")
        self.assertEqual(q(rig, "SELECT keep_power FROM accounts WHERE id = 'A-0302'"), [(1,)])
        wait_for(lambda: balance(rig, "A-0302") < -1000, 120, "the balance to go well below zero")
        self.assertEqual(supply(rig, "E-0302")[:3], ("on", "keep_power", "on"))
        self.assertEqual(rig.feed.events("supply_cut"), [])
        self.assertEqual(q(rig, "SELECT count(*) FROM events WHERE type = 'supply_cut_ordered'"), [(0,)])
        wait_for(lambda: rig.feed.events("keep_power_on"), 30, "the keep_power_on event")
        # Taken back: the meter is cut.
        ack = self.ack_of(command_body("keep_power", account="A-0302", on=False))
        self.assertTrue(ack["ok"], ack)
        wait_for(lambda: observed(rig, "E-0302", "off"), 60, "the relay to be read back open")
        self.assertEqual(supply(rig, "E-0302")[0], "off")
        self.assert_books_balance(rig, "A-0302")


class RatingTest(CommandRig):
    """What consumption costs, from the ledger rows' detail lines: each line's price is
    the tariff's price for its period and tier, and the total charged is the exact sum
    of consumption x price within 1 fen (the sub-fen carry)."""

    def check_charges(self, rig, mid, price_of):
        rows = charge_rows(rig, mid)
        self.assertTrue(rows)
        exact = D(0)
        charged = 0
        previous_end = None
        for amount, detail in rows:
            consumption = D(0)
            for line in detail["lines"]:
                price = price_of(line)
                self.assertEqual(D(line["price"]), price, f"line {line} of {detail}")
                exact += D(line["consumption"]) * price * 100
                consumption += D(line["consumption"])
            self.assertEqual(consumption, D(detail["end_register"]) - D(detail["start_register"]),
                             f"the detail's registers must span its consumption: {detail}")
            if previous_end is not None:
                self.assertGreaterEqual(D(detail["start_register"]), previous_end)
            previous_end = D(detail["end_register"])
            charged -= amount
        self.assertLessEqual(abs(D(charged) - exact), 1, f"charged {charged} fen, exact {exact} fen")
        return rows

    def test_time_of_use_price_follows_the_gateway_clock(self):
        rig = self.start([meter("E-0401", "000000000401", "A-0401")],
                         account("A-0401", "res-tou", 100_000_000))
        wait_for(lambda: len(charge_rows(rig, "E-0401")) >= 5, 120, "five charged intervals")
        rows = self.check_charges(rig, "E-0401", lambda line: TOU_PRICES[line["period"]])
        # The period is the gateway's (UTC) wall clock's: 00-12 valley, 12-24 peak.
        # An interval across 12:00 or 24:00 has lines of both; any other has one.
        for _, detail in rows:
            start, end = utc_time(detail["from"]), utc_time(detail["to"])
            expected = {"valley" if t.hour < 12 else "peak" for t in (start, end)}
            self.assertEqual({line["period"] for line in detail["lines"]} | expected, expected, detail)
            if len(expected) == 1:
                self.assertEqual({line["period"] for line in detail["lines"]}, expected, detail)
        self.assert_books_balance(rig, "A-0401")
        # The daily usage the summaries come from agrees with the ledger lines.
        (used, last), = q(rig, "SELECT (SELECT sum(consumption_micro) FROM daily_usage WHERE meter = 'E-0401'), "
                               "(SELECT last_register FROM meter_rating WHERE meter = 'E-0401')")
        started = D(q(rig, "SELECT json_extract(body, '$.details.register') FROM events "
                           "WHERE type = 'charging_started'")[0][0])
        self.assertEqual(D(used) / 1_000_000, D(last) - started)

    def test_tiers_price_the_cycle_consumption_above_up_to_at_the_next_tier(self):
        rig = self.start([meter("E-0501", "000000000501", "A-0501"),
                          meter("E-0502", "000000000502", "A-0502")],
                         account("A-0501", "res-tiered", 100_000_000)
                         + account("A-0502", "res-tiered-tou", 100_000_000))
        now = datetime.datetime.now(datetime.timezone.utc)
        if (now + datetime.timedelta(minutes=3)).month != now.month:
            self.skipTest("a billing cycle ends within minutes: tier 1 would start over")

        def tier2_lines(mid):
            return [l for _, d in charge_rows(rig, mid) for l in d["lines"] if l["tier"] == 2]
        # 5 kWh is two seconds of simulated load; wait for a few intervals past it.
        wait_for(lambda: all(len(tier2_lines(m)) >= 3 for m in ("E-0501", "E-0502")), 120,
                 "three charged intervals in tier 2 on both meters")
        for mid, price_of in (("E-0501", lambda l: TIERED_PRICES[l["tier"]]),
                              ("E-0502", lambda l: TIERED_TOU_PRICES[(l["tier"], l["period"])])):
            with self.subTest(mid):
                rows = self.check_charges(rig, mid, price_of)
                lines = [l for _, d in rows for l in d["lines"]]
                self.assertEqual(sum(D(l["consumption"]) for l in lines if l["tier"] == 1), D(5))
                self.assertEqual({l["tier"] for l in lines}, {1, 2})
                # Tier 1 fills first: no tier-1 line after the first tier-2 line.
                first2 = next(i for i, l in enumerate(lines) if l["tier"] == 2)
                self.assertTrue(all(l["tier"] == 2 for l in lines[first2:]))
        self.assertTrue(all(D(l["price"]) == D("1.0") for l in tier2_lines("E-0501")))
        self.assert_books_balance(rig, "A-0501", "A-0502")


class MeterReplacementTest(CommandRig):
    def test_a_replaced_meter_is_rebased_not_charged_for_its_lower_register(self):
        # The meter is the third on the simulated bus (its register starts at 300 kWh);
        # the replacement is a new simulator with only that address (starting at 100 kWh).
        rig = self.start([meter("E-0601", "000000000601"), meter("E-0602", "000000000602"),
                          meter("E-0603", "000000000603", "A-0603")],
                         account("A-0603", "res-flat", 100_000_000))
        wait_for(lambda: len(charge_rows(rig, "E-0603")) >= 3, 120, "three charged intervals")
        rig.sim.terminate()
        rig.sim.wait(timeout=10)
        self.assertIsNone(rig.line.proc.poll(), "socat exited with the simulator")
        rig.sim = rig.procs.start("sim-replaced", [
            ECMGW_SIM, "--device", rig.line.meter_end, "--address", "000000000603",
            "--speed", "1000", "--load-kw", "10", "--answer-delay-ms", "5"])
        wait_for(lambda: "serving" in read_log(rig.sim) or rig.sim.poll() is not None, 10,
                 "the replacement simulator to serve")
        self.assertIsNone(rig.sim.poll(), read_log(rig.sim))
        rebased = wait_for(lambda: rig.feed.events("meter_rebased"), 120, "the meter_rebased event")
        self.assertEqual(rebased[0]["meter"], "E-0603")
        old_last = D(rebased[0]["details"]["previous_register"])
        new_from = D(rebased[0]["details"]["new_register"])
        self.assertGreater(old_last, 300)
        self.assertLess(new_from, 200)
        quarantined = [e for e in rig.feed.events("reading_quarantined") if e["meter"] == "E-0603"]
        self.assertEqual([e["details"]["reason"] for e in quarantined], ["register_went_back"])
        wait_for(lambda: sum(D(d["start_register"]) < 300 for _, d in charge_rows(rig, "E-0603")) >= 2, 60,
                 "two charges after the rebase")
        rig.daemon.terminate()
        self.assertEqual(rig.daemon.wait(timeout=30), 0)

        rows = charge_rows(rig, "E-0603")
        started = D(q(rig, "SELECT json_extract(body, '$.details.register') FROM events "
                           "WHERE type = 'charging_started' AND meter = 'E-0603'")[0][0])
        last = D(q(rig, "SELECT last_register FROM meter_rating WHERE meter = 'E-0603'")[0][0])
        # Each charge starts where the one before ended, except once: where the new meter
        # was rebased. Nothing is charged across the break.
        self.assertEqual(D(rows[0][1]["start_register"]), started)
        breaks = []
        for (_, prev), (_, cur) in zip(rows, rows[1:]):
            self.assertGreaterEqual(D(cur["end_register"]), D(cur["start_register"]), cur)
            if cur["start_register"] != prev["end_register"]:
                breaks.append((D(prev["end_register"]), D(cur["start_register"])))
        self.assertEqual(breaks, [(old_last, new_from)])
        self.assertEqual(D(rows[-1][1]["end_register"]), last)
        movement = (old_last - started) + (last - new_from)
        self.assertEqual(sum(D(d["consumption"]) for _, d in rows), movement)
        charged = -sum(a for a, _ in rows)
        self.assertLessEqual(abs(D(charged) - movement * D("0.5283") * 100), 1,
                             f"charged {charged} fen for {movement} kWh")
        self.assert_books_balance(rig, "A-0603")


if __name__ == "__main__":
    unittest.main()
