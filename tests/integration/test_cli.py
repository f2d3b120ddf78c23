"""The technician's direct commands and the daemon's refusal of bad config."""

import json
import os
import subprocess
import tempfile
import unittest
import decimal

from harness import ECMGW, ECMGW_SIM, Processes, PtyPair, wait_for


class ReadCommandTest(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="ecmgw-cli-")
        self.procs = Processes(self.workdir)
        self.line = PtyPair(self.procs, self.workdir, "bench")
        self.answers = os.path.join(self.workdir, "answers.jsonl")
        self.procs.start("sim", [ECMGW_SIM, "--device", self.line.meter_end, "--address", "202012345678",
                                 "--answer-delay-ms", "5", "--answer-log", self.answers])

    def tearDown(self):
        self.procs.stop_all()

    def read(self, *args):
        return subprocess.run([ECMGW, "read", "--device", self.line.master_end, *args],
                              capture_output=True, text=True, timeout=60)

    def test_read_json_gives_the_meters_values(self):
        out = self.read("--address", "202012345678", "--json")
        self.assertEqual(out.returncode, 0, out.stderr)
        result = json.loads(out.stdout, parse_float=decimal.Decimal)
        self.assertEqual(result["address"], "202012345678")
        values = result["values"]
        sent = {}
        with open(self.answers) as f:
            for line in f:
                a = json.loads(line)
                sent[a["quantity"]] = a["value"]
        for q in ("energy_kwh", "voltage_a_v", "active_power_kw", "frequency_hz"):
            self.assertEqual(decimal.Decimal(values[q]), decimal.Decimal(sent[q]), q)
        self.assertEqual(values["voltage_a_v"], decimal.Decimal("220.0"))

    def test_read_with_wildcard_finds_the_only_meter(self):
        out = self.read("--quantity", "energy_kwh")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("meter 202012345678", out.stdout)
        self.assertIn("energy_kwh", out.stdout)

    def test_a_meter_that_does_not_answer_exits_2_with_a_clear_message(self):
        out = self.read("--address", "000000000099", "--timeout-ms", "200")
        self.assertEqual(out.returncode, 2)
        self.assertIn("did not answer", out.stderr)
        self.assertIn("000000000099", out.stderr)


class BadConfigTest(unittest.TestCase):
    def test_daemon_refuses_a_broken_config_and_names_the_line(self):
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write('[gateway]\nid = "gw-1"\n[[bus]]\nname = "b"\ndevice = "/dev/null"\nbaud = 2401\n')
        out = subprocess.run([ECMGW, "run", "--config", f.name], capture_output=True, text=True, timeout=30)
        os.unlink(f.name)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(f"{f.name}:6:", out.stderr)
        self.assertIn("baud", out.stderr)
        self.assertIn("nothing started", out.stderr)


if __name__ == "__main__":
    unittest.main()
