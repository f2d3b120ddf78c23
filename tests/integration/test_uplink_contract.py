"""docs/asyncapi.yaml, checked by tools we did not write: the official AsyncAPI parser
(@asyncapi/parser, pinned in asyncapi/package-lock.json, installed by scripts/install-deps)
says whether it is a valid AsyncAPI document, and a JSON Schema validator (Debian's
python3-jsonschema, draft-07 like AsyncAPI 2.6's schema objects) checks every kind of
message a real daemon publishes through a real mosquitto against its channel's payload
schema: readings, ledger records, events, daily summaries, acknowledgements, status.
Also: the document has every topic of docs/mqtt.md, with its direction, QoS and retain."""

import datetime
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import unittest

import jsonschema
import yaml

from harness import Rig, command_body, publish_command, statuses, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(HERE, "../../docs/asyncapi.yaml")
MQTT_MD = os.path.join(HERE, "../../docs/mqtt.md")
VALIDATOR = os.path.join(HERE, "asyncapi/validate.mjs")
KEY = "k3y-for-the-contract-test-0123456789abcdef"
DAY_MS = 86_400_000


def load_spec():
    with open(SPEC) as f:
        return yaml.safe_load(f)


def run_parser(path):
    """(exit code, output) of the AsyncAPI parser on the document at `path`."""
    node = shutil.which("node")
    if node is None:
        raise AssertionError("node is not installed: run scripts/install-deps")
    if not os.path.isdir(os.path.join(HERE, "asyncapi/node_modules/@asyncapi/parser")):
        raise AssertionError("the AsyncAPI parser is not installed: run scripts/install-deps")
    out = subprocess.run([node, VALIDATOR, path], capture_output=True, text=True, timeout=120)
    return out.returncode, out.stdout + out.stderr


def payload_validator(spec, topic):
    """A draft-07 validator for the payload of the message on the channel ending in
    /<topic>, resolving $refs within the whole document."""
    resolver = jsonschema.RefResolver.from_schema(spec)
    (channel,) = [c for name, c in spec["channels"].items() if name.endswith("/" + topic)]
    operation = channel.get("subscribe") or channel.get("publish")
    message = operation["message"]
    if "$ref" in message:
        _, message = resolver.resolve(message["$ref"])
    return jsonschema.Draft7Validator(message["payload"], resolver=resolver,
                                      format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def problems(validator, message):
    return [f"{'/'.join(map(str, e.absolute_path)) or '$'}: {e.message}"
            for e in validator.iter_errors(message)]


class DocumentTest(unittest.TestCase):
    def test_the_parser_finds_no_error(self):
        code, output = run_parser(SPEC)
        self.assertEqual(code, 0, "the AsyncAPI parser's diagnostics:\n" + output)
        self.assertIn("is valid AsyncAPI 2.6.0", output)

    def test_the_parser_reports_an_invalid_document(self):
        spec = load_spec()
        # No info.version, and a message payload of a type JSON Schema does not have.
        del spec["info"]["version"]
        del spec["channels"]["{prefix}/{gateway}/ledger"]["subscribe"]["message"]["$ref"]
        spec["channels"]["{prefix}/{gateway}/ledger"]["subscribe"]["message"]["payload"] = {"type": "nonsense"}
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
            yaml.safe_dump(spec, f)
            f.flush()
            code, output = run_parser(f.name)
        self.assertEqual(code, 1, output)
        self.assertIn("error", output)
        self.assertIn('must have required property "version"', output)
        self.assertIn('"type" property must be equal to one of the allowed values', output)

    def test_every_topic_of_mqtt_md_with_its_direction_qos_and_retain(self):
        with open(MQTT_MD) as f:
            rows = re.findall(r"^\| `<prefix>/<gw>/(\w+)` \| ([^|]+) \|", f.read(), re.M)
        topics = {name: direction for name, direction in rows}
        self.assertEqual(len(topics), 7, rows)
        channels = load_spec()["channels"]
        self.assertEqual(sorted(c.split("/")[-1] for c in channels), sorted(topics))
        for name, channel in channels.items():
            topic = name.split("/")[-1]
            ops = [op for op in ("publish", "subscribe") if op in channel]
            self.assertEqual(len(ops), 1, name)
            op = channel[ops[0]]
            self.assertEqual(op["bindings"]["mqtt"]["qos"], 1, name)
            self.assertEqual(op["bindings"]["mqtt"]["retain"], "retained" in topics[topic], name)
            # AsyncAPI 2: the application publishes what the cloud sends it (commands);
            # the cloud subscribes to what the gateway sends.
            self.assertEqual(ops[0], "publish" if topics[topic].startswith("cloud") else "subscribe", name)


ACCOUNT = """
[[tariff]]
id = "res-flat"
utility = "electricity"
price = "0.5283"

[[account]]
id = "A-0001"
tariff = "res-flat"
warn_fen = [2000]
opening_balance_fen = 100000

[prepaid]
check_interval_s = 5
"""


def zone_just_past_midnight():
    """An IANA zone (fixed offset) in which it is now between 00:00 and 01:00: the day
    that just ended is summarised without a gap."""
    h = datetime.datetime.now(datetime.timezone.utc).hour
    if h == 0:
        return "UTC"
    # Etc/GMT+h is UTC-h (POSIX sign).
    return f"Etc/GMT+{h}" if h <= 12 else f"Etc/GMT-{24 - h}"


class RealMessagesTest(unittest.TestCase):
    """One real daemon, one meter with an account: every message it publishes on every
    topic is validated against the document."""

    @classmethod
    def setUpClass(cls):
        cls.spec = load_spec()
        cls.validators = {t: payload_validator(cls.spec, t)
                          for t in ("readings", "ledger", "events", "summaries", "acks", "status")}
        cls.rig = rig = Rig(meter_configs=[{"id": "E-0001", "protocol": "dlt645-2007",
                                            "address": "000000000001", "kind": "electricity",
                                            "account": "A-0001", "quantities": ["energy_kwh"]}],
                            sim_args=["--speed", "100", "--load-kw", "2"], extra_config=ACCOUNT,
                            command_key=KEY, cloud={"status_interval_s": 1})
        try:
            cls.capture(rig)
        except BaseException:
            rig.close()
            raise

    @classmethod
    def capture(cls, rig):
        with open(rig.config) as f:
            text = f.read()
        with open(rig.config, "w") as f:
            f.write(text.replace('timezone = "UTC"', f'timezone = "{zone_just_past_midnight()}"'))
        daemon = rig.start_daemon()
        wait_for(lambda: [r for r in rig.feed.records("ledger") if r["kind"] == "charge"], 60,
                 "a charge on the ledger topic")
        wait_for(lambda: len([s for s in statuses(rig.feed) if s["online"]]) >= 2, 30,
                 "the birth status and a refresh")
        ok = command_body("topup", account="A-0001", amount_fen=2500, txn="wx-contract-1")
        refused = command_body("topup", account="A-9999", amount_fen=100, txn="wx-contract-2")
        publish_command(rig, ok)
        publish_command(rig, refused)
        assert rig.wait_ack(ok["id"])["ok"]
        assert not rig.wait_ack(refused["id"])["ok"]
        wait_for(lambda: [r for r in rig.feed.records("ledger") if r["kind"] == "topup"], 30,
                 "the top-up on the ledger topic")

        # Summaries come after local midnight, for a whole day since the first start:
        # stopped, the gateway is set back as if it had been first started three days
        # ago, so that it summarises the day before yesterday (late: a gap) and
        # yesterday (which ended less than an hour ago in this zone) at its next check.
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=30) == 0
        db = sqlite3.connect(os.path.join(rig.data_dir, "ecmgw.db"))
        try:
            with db:
                moved = db.execute("UPDATE core_state SET value = value - ? WHERE name = 'summaries_from_ms'",
                                   (3 * DAY_MS,)).rowcount
        finally:
            db.close()
        assert moved == 1, "no summaries_from_ms in core_state"
        daemon = rig.start_daemon()
        wait_for(lambda: len([s for s in rig.feed.records("summaries") if s["scope"] == "account"]) >= 2,
                 90, "the summaries of two days")
        # The last will: the broker publishes it when the connection dies.
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(timeout=10)
        wait_for(lambda: [s for s in statuses(rig.feed) if s.get("reason") == "connection_lost"], 30,
                 "the last will")
        cls.messages = rig.feed.snapshot()
        cls.status = statuses(rig.feed)

    @classmethod
    def tearDownClass(cls):
        cls.rig.close()

    def messages_on(self, topic):
        found = [m for t, m in self.messages if t == f"ecm/v1/gw-test/{topic}"]
        self.assertTrue(found, f"no message on {topic}")
        return found

    def assert_valid(self, topic, messages):
        validator = self.validators[topic]
        for m in messages:
            self.assertEqual(problems(validator, m), [], f"{topic} message {m}")

    def test_readings(self):
        self.assert_valid("readings", self.messages_on("readings"))

    def test_ledger_records(self):
        messages = self.messages_on("ledger")
        kinds = {r["kind"] for m in messages for r in m["ledger"]}
        self.assertEqual(kinds, {"opening", "charge", "topup"})
        self.assert_valid("ledger", messages)

    def test_events(self):
        messages = self.messages_on("events")
        self.assertIn("account_created", {e["event"] for m in messages for e in m["events"]})
        self.assert_valid("events", messages)

    def test_summaries(self):
        messages = self.messages_on("summaries")
        records = [s for m in messages for s in m["summaries"]]
        self.assertEqual({s["scope"] for s in records}, {"meter", "account"})
        self.assertIn(True, {s["gap"] for s in records})
        self.assert_valid("summaries", messages)

    def test_acks(self):
        messages = self.messages_on("acks")
        self.assertEqual({a["ok"] for m in messages for a in m["acks"]}, {True, False})
        self.assert_valid("acks", messages)

    def test_status(self):
        self.assertEqual({(s["online"], s.get("reason")) for s in self.status},
                         {(True, None), (False, "shutdown"), (False, "connection_lost")})
        self.assert_valid("status", self.status)

    def test_the_schemas_reject_what_mqtt_md_forbids(self):
        """Real messages, each spoilt in one way the contract rules out."""
        ledger = next({**m, "ledger": [r]} for m in self.messages_on("ledger") for r in m["ledger"]
                      if r["kind"] == "topup")
        ack = next({**m, "acks": [a]} for m in self.messages_on("acks") for a in m["acks"] if not a["ok"])
        reading = self.messages_on("readings")[0]
        account_summary = next({**m, "summaries": [s]} for m in self.messages_on("summaries")
                               for s in m["summaries"] if s["scope"] == "account")
        status = self.status[0]
        spoilt = [
            ("ledger", ledger, lambda m: m["ledger"][0].update(amount_fen=str(m["ledger"][0]["amount_fen"]))),
            ("ledger", ledger, lambda m: m["ledger"][0].update(amount_fen=-m["ledger"][0]["amount_fen"])),
            ("ledger", ledger, lambda m: m["ledger"][0].pop("balance_fen")),
            ("acks", ack, lambda m: m["acks"][0].pop("error")),
            ("readings", reading, lambda m: m["readings"][0].update(ts="2026-11-24 04:34:56")),
            ("readings", reading, lambda m: m["readings"][0].update(value=str(m["readings"][0]["value"]))),
            ("readings", reading, lambda m: m.update(gateway="gw/1")),
            ("summaries", account_summary, lambda m: m["summaries"][0].update(day="2026-13-45")),
            ("summaries", account_summary, lambda m: m["summaries"][0].pop("consumption_cost_fen")),
            ("status", status, lambda m: m.update(backlog=-1)),
        ]
        for topic, message, spoil in spoilt:
            m = _copy(message)
            spoil(m)
            self.assertTrue(problems(self.validators[topic], m), f"{topic}: accepted {m}")


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


if __name__ == "__main__":
    unittest.main()
