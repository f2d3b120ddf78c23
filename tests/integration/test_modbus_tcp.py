"""Modbus TCP (MBAP framing) against a server we did not write: pymodbus."""

import decimal
import json
import os
import subprocess
import unittest

from harness import ECMGW, Rig, free_port, port_open, wait_for, write_config

HERE = os.path.dirname(os.path.abspath(__file__))
PROFILES = os.path.join(HERE, "../../config/profiles")
EXPECTED = {"voltage_a_v": "230.5", "current_a_a": "4.250", "active_power_kw": "0.9790",
            "frequency_hz": "50.01", "import_energy_kwh": "1234.56"}


class ModbusTcpTest(unittest.TestCase):
    def setUp(self):
        self.rig = Rig(meters=1)
        self.port = free_port()
        self.rig.procs.start("pymodbus", ["/usr/bin/python3", os.path.join(HERE, "pymodbus_tcp_server.py"),
                                          str(self.port), "7"])
        # pymodbus serves each connection on its own: a probe connection does no harm.
        wait_for(lambda: port_open(self.port), 30, "the pymodbus server to listen")

    def tearDown(self):
        self.rig.close()

    def test_technician_read_gives_the_servers_values_exactly(self):
        out = subprocess.run([ECMGW, "read", "--host", "127.0.0.1", "--port", str(self.port),
                              "--framing", "tcp", "--protocol", "modbus", "--unit", "7",
                              "--profile", "eastron-sdm120", "--profiles-dir", PROFILES, "--json"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        values = json.loads(out.stdout, parse_float=decimal.Decimal)["values"]
        for quantity, text in EXPECTED.items():
            self.assertEqual(values[quantity], decimal.Decimal(text), quantity)

    def test_the_daemon_polls_a_modbus_tcp_bus(self):
        write_config(self.rig.config, "gw-test", self.rig.data_dir, self.rig.broker.uri,
                     [{"name": "plant", "transport": "tcp", "host": "127.0.0.1", "port": self.port,
                       "framing": "tcp", "timeout_ms": 1000}],
                     [{"id": "M-0007", "bus": "plant", "protocol": "modbus", "unit": 7,
                       "profile": "eastron-sdm120", "interval_s": 1}])
        with open(self.rig.config) as f:
            text = f.read()
        with open(self.rig.config, "w") as f:
            f.write(text.replace("[cloud]", f'profiles_dir = "{PROFILES}"\n\n[cloud]', 1))
        self.rig.start_daemon()
        readings = wait_for(lambda: (lambda rs: rs if {r["quantity"] for r in rs} >= set(EXPECTED) else None)(
            self.rig.feed.readings()), 60, "the meter's readings over MQTT")
        for r in readings:
            if r["quantity"] in EXPECTED:
                self.assertEqual(decimal.Decimal(r["value"]), decimal.Decimal(EXPECTED[r["quantity"]]),
                                 r["quantity"])


if __name__ == "__main__":
    unittest.main()
