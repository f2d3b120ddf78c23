"""One RS-485 line carrying four protocols: DL/T 645-2007, DL/T 645-1997, CJ/T 188
and Modbus RTU, read by one daemon with one master, served by ecmgw-sim from the
same gateway config. Every value published must be one the simulator sent."""

import decimal
import json
import os
import unittest

from harness import ECMGW_SIM, Rig, unique_seqs, wait_for, write_config

PROFILES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../config/profiles")

METERS = [
    {"id": "E-0001", "bus": "floor1", "protocol": "dlt645-2007", "address": "000000000001",
     "interval_s": 2},
    {"id": "E-0002", "bus": "floor1", "protocol": "dlt645-1997", "address": "000000000002",
     "interval_s": 2},
    {"id": "W-0001", "bus": "floor1", "protocol": "cjt188", "address": "12345678901234",
     "kind": "water", "interval_s": 2},
    {"id": "M-0005", "bus": "floor1", "protocol": "modbus", "unit": 5, "profile": "eastron-sdm120",
     "baud": 2400, "parity": "N", "interval_s": 2},
]


class MixedBusTest(unittest.TestCase):
    def setUp(self):
        # The Rig gives the line, the broker and the feed; its own simulator is replaced.
        self.rig = Rig(meters=1)
        self.rig.sim.terminate()
        self.rig.sim.wait(timeout=10)
        write_config(self.rig.config, "gw-test", self.rig.data_dir, self.rig.broker.uri,
                     [{"name": "floor1", "device": self.rig.line.master_end, "baud": 2400,
                       "parity": "E", "timeout_ms": 400, "inter_byte_timeout_ms": 100, "gap_ms": 5}],
                     METERS)
        with open(self.rig.config) as f:
            text = f.read()
        with open(self.rig.config, "w") as f:
            f.write(text.replace("[cloud]", f'profiles_dir = "{PROFILES}"\n\n[cloud]', 1))
        self.log = os.path.join(self.rig.workdir, "mixed-answers.jsonl")
        self.rig.procs.start("sim-mixed", [ECMGW_SIM, "--device", self.rig.line.meter_end,
                                           "--config", self.rig.config, "--bus", "floor1",
                                           "--answer-delay-ms", "5", "--answer-log", self.log])

    def tearDown(self):
        self.rig.close()

    def sent(self):
        """(meter id, quantity) → values the simulator answered."""
        by_key = {}
        ids = {m.get("address") or str(m.get("unit")): m["id"] for m in METERS}
        if not os.path.exists(self.log):
            return by_key
        with open(self.log) as f:
            for line in f:
                if not line.endswith("\n"):
                    continue
                a = json.loads(line)
                key = a.get("address") or str(a.get("unit"))
                by_key.setdefault((ids[key], a["quantity"]), set()).add(decimal.Decimal(a["value"]))
        return by_key

    def test_every_protocol_on_one_line_is_read_and_published(self):
        self.rig.start_daemon()
        want = {m["id"] for m in METERS}
        readings = wait_for(
            lambda: (lambda rs: rs if {r["meter"] for r in rs} >= want else None)(self.rig.feed.readings()),
            90, "readings from all four meters")
        seqs = unique_seqs(readings)
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        sent = self.sent()
        quantities = {}
        for r in readings:
            quantities.setdefault(r["meter"], set()).add(r["quantity"])
            self.assertIn(decimal.Decimal(r["value"]), sent.get((r["meter"], r["quantity"]), set()),
                          f"{r['meter']} {r['quantity']} = {r['value']} was never sent by the simulator")
        self.assertIn("energy_kwh", quantities["E-0001"])
        self.assertIn("import_energy_kwh", quantities["E-0002"])
        self.assertTrue({"volume_m3", "valve_state"} <= quantities["W-0001"], quantities["W-0001"])
        self.assertIn("voltage_a_v", quantities["M-0005"])


if __name__ == "__main__":
    unittest.main()
