"""docs/asyncapi.yaml: parses as YAML, is AsyncAPI 2.6 in shape, names every topic of
docs/mqtt.md, resolves every $ref, and its schemas accept messages the gateway really
sends (a reading batch and the status, from a real daemon and mosquitto)."""

import os
import unittest

import yaml

from harness import Rig, statuses, wait_for

SPEC = os.path.join(os.path.dirname(__file__), "../../docs/asyncapi.yaml")
TOPICS = ["readings", "ledger", "events", "summaries", "acks", "status", "commands"]


def resolve(spec, ref):
    node = spec
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def refs(node):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref":
                yield v
            else:
                yield from refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from refs(v)


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


class AsyncApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(SPEC) as f:
            cls.spec = yaml.safe_load(f)

    def test_structure(self):
        spec = self.spec
        self.assertEqual(spec["asyncapi"], "2.6.0")
        for key in ("title", "version"):
            self.assertIn(key, spec["info"])
        channels = spec["channels"]
        self.assertEqual(sorted(c.split("/")[-1] for c in channels), sorted(TOPICS))
        for name, channel in channels.items():
            ops = [op for op in ("publish", "subscribe") if op in channel]
            self.assertEqual(len(ops), 1, name)
            op = channel[ops[0]]
            self.assertEqual(op["bindings"]["mqtt"]["qos"], 1, name)
            self.assertEqual(op["bindings"]["mqtt"]["retain"], name.endswith("/status"), name)
            self.assertEqual(ops[0], "publish" if name.endswith("/commands") else "subscribe", name)
            self.assertIn("$ref", op["message"])
        for ref in refs(spec):
            resolve(spec, ref)  # raises KeyError when dangling

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
