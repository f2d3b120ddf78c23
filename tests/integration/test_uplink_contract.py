"""docs/asyncapi.yaml: the official AsyncAPI parser (@asyncapi/parser, pinned in
asyncapi/package-lock.json, installed by scripts/install-deps) says whether it is a valid
AsyncAPI document; it has every topic of docs/mqtt.md, with its direction, QoS and retain;
and its schemas accept messages the gateway really sends (a reading batch and the status,
from a real daemon and mosquitto)."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

import yaml

from harness import Rig, statuses, wait_for

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = os.path.join(HERE, "../../docs/asyncapi.yaml")
MQTT_MD = os.path.join(HERE, "../../docs/mqtt.md")
VALIDATOR = os.path.join(HERE, "asyncapi/validate.mjs")


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


def resolve(spec, ref):
    node = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def check(spec, schema, value, path="$"):
    """A small JSON-schema check: $ref, allOf, type, required, properties, items, enum."""
    if "$ref" in schema:
        return check(spec, resolve(spec, schema["$ref"]), value, path)
    for part in schema.get("allOf", []):
        check(spec, part, value, path)
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "number": (int, float),
             "integer": int}
    t = schema.get("type")
    if t:
        ok = isinstance(value, types[t]) and not (t in ("integer", "number") and isinstance(value, bool))
        assert ok, f"{path}: {value!r} is not {t}"
    if "enum" in schema:
        assert value in schema["enum"], f"{path}: {value!r} not in {schema['enum']}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{path}: missing {key}"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                check(spec, sub, value[key], f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            check(spec, schema["items"], v, f"{path}[{i}]")


class RealMessagesTest(unittest.TestCase):
    spec = load_spec()

    def test_real_messages_match_the_schemas(self):
        rig = Rig(meters=1)
        try:
            rig.start_daemon()
            readings = wait_for(lambda: [m for t, m in rig.feed.snapshot() if t.endswith("/readings")],
                                30, "a readings message")
            status = wait_for(lambda: statuses(rig.feed), 30, "a status message")
        finally:
            rig.close()
        schemas = self.spec["components"]["schemas"]
        check(self.spec, schemas["readingsMessage"], _plain(readings[0]))
        check(self.spec, schemas["status"], status[0])
        ack = {"gateway": "g", "seq": 5, "count": 1, "acks": [{"seq": 5, "id": "c-1", "ok": True}]}
        check(self.spec, schemas["acksMessage"], ack)
        with self.assertRaises(AssertionError):
            check(self.spec, schemas["acksMessage"], {"gateway": "g", "seq": 5, "count": 1})


def _plain(message):
    """The feed parses numbers as Decimal; the schema speaks of JSON numbers."""
    import decimal
    if isinstance(message, dict):
        return {k: _plain(v) for k, v in message.items()}
    if isinstance(message, list):
        return [_plain(v) for v in message]
    if isinstance(message, decimal.Decimal):
        return float(message)
    return message


if __name__ == "__main__":
    unittest.main()
