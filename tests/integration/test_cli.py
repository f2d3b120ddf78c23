"""The technician's direct commands and the daemon's refusal of bad config.

DL/T 645-2007 meters are ecmgw-sim's. Modbus meters are served by Debian's
pymodbus (its RTU framer, request decoder and datastore) on the meter end of a
socat pty pair: pymodbus's own serial server needs pyserial, which the project
does not install, so PymodbusMeter moves the bytes itself."""

import decimal
import json
import os
import select
import shutil
import struct
import subprocess
import tempfile
import threading
import unittest

from pymodbus.datastore import ModbusSequentialDataBlock, ModbusSlaveContext
from pymodbus.factory import ServerDecoder
from pymodbus.framer.rtu_framer import ModbusRtuFramer

from harness import ECMGW, ECMGW_SIM, Processes, PtyPair, free_port, read_log, wait_for, write_config

# Sweeps in tests wait longer than the technician's default (100 ms) for an answer:
# a busy CI machine may keep the Python meter from answering at once.
SCAN_TIMEOUT_MS = "300"

PROFILES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../config/profiles")


def workdir_for(test, prefix):
    """A scratch directory removed after the test, once its processes have stopped."""
    workdir = tempfile.mkdtemp(prefix=prefix)
    test.addCleanup(shutil.rmtree, workdir, ignore_errors=True)
    return workdir


def run_ecmgw(*args, timeout=120):
    return subprocess.run([ECMGW, *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "ECMGW_PROFILES_DIR": PROFILES_DIR})


def sim_takes_a_config():
    """Whether this ecmgw-sim serves the meters of a config file (every protocol),
    not only DL/T 645-2007 meters."""
    out = subprocess.run([ECMGW_SIM, "--help"], capture_output=True, text=True, timeout=30)
    return "--config" in out.stdout


def assert_pastes_into_a_config(test, device, blocks):
    """The scan's output, pasted under a [[bus]] named floor1, is a config the daemon takes."""
    path = os.path.join(test.workdir, "pasted.toml")
    with open(path, "w") as f:
        f.write(f'[gateway]\nid = "gw-1"\nprofiles_dir = "{PROFILES_DIR}"\n\n'
                f'[[bus]]\nname = "floor1"\ndevice = "{device}"\n\n{blocks}')
    out = run_ecmgw("check-config", path)
    test.assertEqual(out.returncode, 0, out.stdout + out.stderr)


def start_sim(procs, device, *args):
    """ecmgw-sim on `device`, once it serves (its first line says so)."""
    sim = procs.start("sim", [ECMGW_SIM, "--device", device, "--answer-delay-ms", "5", *args])
    wait_for(lambda: "serving" in read_log(sim), 10, "ecmgw-sim to serve")
    return sim


def listening(port):
    """Whether a TCP socket listens on `port` (without connecting, which would use
    up a socat that accepts one connection)."""
    with open("/proc/net/tcp") as f:
        return any(fields[1].endswith(f":{port:04X}") and fields[3] == "0A"
                   for fields in (line.split() for line in f.readlines()[1:]))


def float32_registers(value):
    """An IEEE 754 float in two registers, high word first (Eastron's ABCD)."""
    return list(struct.unpack(">HH", struct.pack(">f", value)))


# Eastron SDM120 input registers (config/profiles/eastron-sdm120.toml) and the values put there.
SDM120_VALUES = {
    0x0000: 230.5,    # voltage_a_v, 1 decimal
    0x0006: 1.234,    # current_a_a, 3 decimals
    0x000C: 284.6,    # active power in W: active_power_kw 0.2846
    0x001E: 0.985,    # power_factor
    0x0046: 49.98,    # frequency_hz
    0x0048: 1234.56,  # import_energy_kwh
    0x0156: 2345.67,  # energy_kwh
}


class PymodbusMeter:
    """One Modbus RTU device: pymodbus answers every request for `unit` (and
    none for other units, as on a real bus) from a datastore of registers."""

    def __init__(self, device, unit, input_floats, holding_registers=None):
        self.unit = unit
        inputs = ModbusSequentialDataBlock(0, [0] * 0x200)
        for address, value in input_floats.items():
            inputs.setValues(address, float32_registers(value))
        self.holding = ModbusSequentialDataBlock(0, [0] * 0x100)
        for address, value in (holding_registers or {}).items():
            self.holding.setValues(address, [value])
        self.context = ModbusSlaveContext(ir=inputs, hr=self.holding, zero_mode=True)
        self.framer = ModbusRtuFramer(ServerDecoder())
        self.fd = os.open(device, os.O_RDWR | os.O_NOCTTY)
        self.requests = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _answer(self, request):
        self.requests += 1
        response = request.execute(self.context)
        response.unit_id = request.unit_id
        os.write(self.fd, self.framer.buildPacket(response))

    def _serve(self):
        while not self.stopping.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if ready:
                self.framer.processIncomingPacket(os.read(self.fd, 512), self._answer, unit=[self.unit])

    def close(self):
        self.stopping.set()
        self.thread.join(10)
        os.close(self.fd)


class Dlt645CommandsTest(unittest.TestCase):
    """read, relay and scan against one simulated DL/T 645-2007 meter."""

    def setUp(self):
        self.workdir = workdir_for(self, "ecmgw-cli-")
        self.procs = Processes(self.workdir)
        self.addCleanup(self.procs.stop_all)
        self.line = PtyPair(self.procs, self.workdir, "bench")
        self.answers = os.path.join(self.workdir, "answers.jsonl")
        start_sim(self.procs, self.line.meter_end, "--address", "202012345678", "--answer-log", self.answers)

    def ecmgw(self, command, *args):
        return run_ecmgw(command, "--device", self.line.master_end, *args)

    def read(self, *args):
        return self.ecmgw("read", *args)

    def read_json(self, *args):
        out = self.read("--json", *args)
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout, parse_float=decimal.Decimal)

    def test_read_json_gives_the_meters_values(self):
        result = self.read_json("--address", "202012345678")
        self.assertEqual(result["address"], "202012345678")
        self.assertEqual(result["protocol"], "dlt645-2007")
        values = result["values"]
        sent = {}
        with open(self.answers) as f:
            for line in f:
                a = json.loads(line)
                sent[a["quantity"]] = a["value"]
        for q in ("energy_kwh", "voltage_a_v", "active_power_kw", "frequency_hz"):
            self.assertEqual(decimal.Decimal(values[q]), decimal.Decimal(sent[q]), q)
        self.assertEqual(values["voltage_a_v"], decimal.Decimal("220.0"))

    def test_read_keeps_the_standard_set_with_date_time_and_status(self):
        values = self.read_json()["values"]
        for q in ("energy_kwh", "import_energy_t1_kwh", "import_energy_t4_kwh", "current_a_a",
                  "power_factor", "frequency_hz", "status_word_3"):
            self.assertIn(q, values)
        self.assertRegex(values["meter_date"], r"^\d{4}-\d{2}-\d{2}$")
        self.assertRegex(values["meter_time"], r"^\d{2}:\d{2}:\d{2}$")

    def test_read_with_wildcard_finds_the_only_meter(self):
        out = self.read("--quantity", "energy_kwh")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("meter 202012345678", out.stdout)
        self.assertIn("energy_kwh", out.stdout)
        self.assertIn("kWh", out.stdout)

    def test_a_meter_that_does_not_answer_exits_2_with_a_clear_message(self):
        out = self.read("--address", "000000000099", "--timeout-ms", "200")
        self.assertEqual(out.returncode, 2)
        self.assertIn("did not answer", out.stderr)
        self.assertIn("000000000099", out.stderr)
        self.assertIn("wiring", out.stderr)
        self.assertIn("parity", out.stderr)

    def test_an_unknown_quantity_is_a_usage_error(self):
        out = self.read("--quantity", "no_such_thing")
        self.assertEqual(out.returncode, 1)
        self.assertIn("no_such_thing", out.stderr)

    def test_relay_off_then_on_reads_the_state_back(self):
        off = self.ecmgw("relay", "--address", "202012345678", "off")
        self.assertEqual(off.returncode, 0, off.stderr)
        self.assertIn("read back: off", off.stdout)
        status = self.read_json("--quantity", "status_word_3", "--quantity", "active_power_kw")["values"]
        self.assertTrue(int(status["status_word_3"]) & 0x10, "status word 3 bit 4: relay open")
        self.assertEqual(status["active_power_kw"], 0)

        on = self.ecmgw("relay", "--json", "on")  # the wildcard: the only meter on the bus
        self.assertEqual(on.returncode, 0, on.stderr)
        result = json.loads(on.stdout)
        self.assertEqual((result["address"], result["state"], result["ok"]), ("202012345678", "on", True))
        status = self.read_json("--quantity", "status_word_3")["values"]
        self.assertFalse(int(status["status_word_3"]) & 0x10, "status word 3 bit 4: relay closed")

    def test_relay_alarm_and_keep_power_commands_reach_the_meter(self):
        alarm = self.ecmgw("relay", "--address", "202012345678", "--json", "alarm")
        self.assertEqual(alarm.returncode, 0, alarm.stderr)
        result = json.loads(alarm.stdout)
        self.assertEqual((result["command"], result["accepted"], result["pre_trip_alarm"]),
                         ("alarm", True, True))
        self.assertTrue(int(self.read_json("--quantity", "status_word_3")["values"]["status_word_3"]) & 0x80,
                        "status word 3 bit 7: pre-trip alarm")
        release = self.ecmgw("relay", "--address", "202012345678", "alarm-release")
        self.assertEqual(release.returncode, 0, release.stderr)
        self.assertIn("pre-trip alarm off", release.stdout)
        keep = self.ecmgw("relay", "keep-power")
        self.assertEqual(keep.returncode, 0, keep.stderr)
        self.assertIn("accepted keep power", keep.stdout)

    def test_relay_of_a_meter_that_does_not_answer_exits_2(self):
        out = self.ecmgw("relay", "--address", "000000000099", "--timeout-ms", "200", "off")
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("did not answer", out.stderr)

    def test_scan_prints_a_meter_block_with_the_address(self):
        out = self.ecmgw("scan", "--bus", "floor1")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("[[meter]]", out.stdout)
        self.assertIn('id = "E-5678"', out.stdout)
        self.assertIn('bus = "floor1"', out.stdout)
        self.assertIn('protocol = "dlt645-2007"', out.stdout)
        self.assertIn('address = "202012345678"', out.stdout)
        self.assertIn("found meter 202012345678", out.stderr)
        assert_pastes_into_a_config(self, self.line.master_end, out.stdout)

    def test_scan_json(self):
        out = self.ecmgw("scan", "--json")
        self.assertEqual(out.returncode, 0, out.stderr)
        result = json.loads(out.stdout)
        self.assertEqual(result["protocol"], "dlt645-2007")
        self.assertEqual([m["address"] for m in result["found"]], ["202012345678"])
        self.assertEqual(result["found"][0]["bus"], "CHANGE-ME")


class SerialServerTest(unittest.TestCase):
    """A serial-to-Ethernet server in transparent mode: socat passes TCP bytes to a
    pty, where ecmgw-sim serves one DL/T 645-2007 meter."""

    def setUp(self):
        self.workdir = workdir_for(self, "ecmgw-tcp-")
        self.procs = Processes(self.workdir)
        self.addCleanup(self.procs.stop_all)
        self.port = free_port()
        meter_end = os.path.join(self.workdir, "server-meters")
        self.procs.start("socat-server", ["socat", f"pty,raw,echo=0,link={meter_end}",
                                          f"tcp-listen:{self.port},bind=127.0.0.1,reuseaddr"])
        wait_for(lambda: os.path.exists(meter_end) and listening(self.port), 10, "the serial server")
        start_sim(self.procs, meter_end, "--address", "202012345678")

    def test_read_through_a_serial_server(self):
        out = run_ecmgw("read", "--host", "127.0.0.1", "--port", str(self.port), "--json",
                        "--quantity", "energy_kwh", "--quantity", "voltage_a_v")
        self.assertEqual(out.returncode, 0, out.stderr)
        result = json.loads(out.stdout, parse_float=decimal.Decimal)
        self.assertEqual((result["address"], result["host"], result["port"]),
                         ("202012345678", "127.0.0.1", self.port))
        self.assertEqual(result["values"]["voltage_a_v"], decimal.Decimal("220.0"))


class ModbusCommandsTest(unittest.TestCase):
    """read and scan of an Eastron SDM120 served by pymodbus as unit 7."""

    UNIT = 7

    def setUp(self):
        self.workdir = workdir_for(self, "ecmgw-modbus-")
        self.procs = Processes(self.workdir)
        self.addCleanup(self.procs.stop_all)
        self.line = PtyPair(self.procs, self.workdir, "modbus")
        self.meter = PymodbusMeter(self.line.meter_end, self.UNIT, SDM120_VALUES)
        self.addCleanup(self.meter.close)

    def ecmgw(self, command, *args):
        return run_ecmgw(command, "--device", self.line.master_end, "--protocol", "modbus", *args)

    def test_read_gives_the_exact_register_values_rounded_per_the_profile(self):
        out = self.ecmgw("read", "--unit", str(self.UNIT), "--profile", "eastron-sdm120", "--json")
        self.assertEqual(out.returncode, 0, out.stderr)
        # The exact text matters (decimals per the profile), not only the value.
        self.assertIn('"voltage_a_v":230.5,', out.stdout)
        self.assertIn('"active_power_kw":0.2846,', out.stdout)
        result = json.loads(out.stdout, parse_float=decimal.Decimal)
        self.assertEqual((result["unit"], result["profile"], result["protocol"]),
                         (self.UNIT, "eastron-sdm120", "modbus"))
        expected = {"voltage_a_v": "230.5", "current_a_a": "1.234", "active_power_kw": "0.2846",
                    "power_factor": "0.985", "frequency_hz": "49.98", "import_energy_kwh": "1234.56",
                    "energy_kwh": "2345.67", "export_energy_kwh": "0.00"}
        for q, v in expected.items():
            self.assertEqual(result["values"][q], decimal.Decimal(v), q)
        self.assertEqual(result["errors"], [])

    def test_read_of_chosen_quantities_prints_a_table_with_units(self):
        out = self.ecmgw("read", "--unit", str(self.UNIT), "--profile", "eastron-sdm120",
                         "--quantity", "voltage_a_v", "--quantity", "energy_kwh")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("modbus unit 7 (eastron-sdm120)", out.stdout)
        self.assertRegex(out.stdout, r"voltage_a_v +230\.5 V")
        self.assertRegex(out.stdout, r"energy_kwh +2345\.67 kWh")
        self.assertNotIn("frequency_hz", out.stdout)

    def test_a_unit_that_does_not_answer_exits_2(self):
        out = self.ecmgw("read", "--unit", "8", "--profile", "eastron-sdm120", "--timeout-ms", "200")
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("modbus unit 8", out.stderr)
        self.assertIn("did not answer", out.stderr)

    def test_read_without_a_profile_is_a_usage_error_naming_the_profiles(self):
        out = self.ecmgw("read", "--unit", str(self.UNIT))
        self.assertEqual(out.returncode, 1)
        self.assertIn("--profile", out.stderr)
        self.assertIn("eastron-sdm120", out.stderr)

    def test_relay_of_a_profile_without_relay_is_a_usage_error(self):
        out = self.ecmgw("relay", "--unit", str(self.UNIT), "--profile", "eastron-sdm120", "off")
        self.assertEqual(out.returncode, 1)
        self.assertIn("describes no relay", out.stderr)

    def test_scan_finds_the_unit_among_1_to_10(self):
        out = self.ecmgw("scan", "--to", "10", "--profile", "eastron-sdm120", "--bus", "floor1",
                         "--timeout-ms", SCAN_TIMEOUT_MS)
        self.assertEqual(out.returncode, 0, out.stderr)
        assert_pastes_into_a_config(self, self.line.master_end, out.stdout)
        self.assertIn('id = "M-7"', out.stdout)
        self.assertIn("unit = 7", out.stdout)
        self.assertIn('profile = "eastron-sdm120"', out.stdout)
        self.assertEqual(out.stdout.count("[[meter]]"), 1)
        self.assertIn("baud = 2400", out.stdout)  # the profile's factory line settings
        self.assertIn("found modbus unit 7", out.stderr)

    def test_scan_without_a_profile_reads_holding_register_0(self):
        out = self.ecmgw("scan", "--to", "10", "--json", "--timeout-ms", SCAN_TIMEOUT_MS)
        self.assertEqual(out.returncode, 0, out.stderr)
        result = json.loads(out.stdout)
        self.assertEqual([m["unit"] for m in result["found"]], [self.UNIT])
        self.assertEqual(result["found"][0]["id"], "M-7")

    def test_scan_of_units_nobody_has_exits_2(self):
        out = self.ecmgw("scan", "--from", "1", "--to", "3")
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("no meter found", out.stderr)
        self.assertEqual(out.stdout, "")


class ModbusSwitchTest(unittest.TestCase):
    """Valve and relay commands as the profiles describe them, on a pymodbus device
    whose holding registers take the writes."""

    UNIT = 5
    XINTAI_VALVE = 0x001C  # config/profiles/xintai-water-meter.toml: 1 open, 2 closed
    ACREL_CONTROL = 0x0057  # config/profiles/acrel-ddsy1352.toml: forced control, switch

    def setUp(self):
        self.workdir = workdir_for(self, "ecmgw-modbus-switch-")
        self.procs = Processes(self.workdir)
        self.addCleanup(self.procs.stop_all)
        self.line = PtyPair(self.procs, self.workdir, "modbus")
        self.meter = PymodbusMeter(self.line.meter_end, self.UNIT, {}, {self.XINTAI_VALVE: 1})
        self.addCleanup(self.meter.close)

    def ecmgw(self, command, profile, *args):
        return run_ecmgw(command, "--device", self.line.master_end, "--protocol", "modbus",
                         "--unit", str(self.UNIT), "--profile", profile, *args)

    def test_valve_close_then_open_reads_the_state_back(self):
        close = self.ecmgw("valve", "xintai-water-meter", "close")
        self.assertEqual(close.returncode, 0, close.stderr)
        self.assertIn("write holding 0x001C = 0x0002", close.stdout)
        self.assertIn("read back: closed", close.stdout)
        self.assertEqual(self.meter.holding.getValues(self.XINTAI_VALVE, 1), [2])
        opened = self.ecmgw("valve", "xintai-water-meter", "--json", "open")
        self.assertEqual(opened.returncode, 0, opened.stderr)
        self.assertEqual(json.loads(opened.stdout)["state"], "on")
        self.assertEqual(self.meter.holding.getValues(self.XINTAI_VALVE, 1), [1])

    def test_a_relay_without_a_state_register_is_written_but_not_confirmed(self):
        out = self.ecmgw("relay", "acrel-ddsy1352", "off")
        self.assertEqual(out.returncode, 3, out.stderr)
        self.assertIn("no state register", out.stderr)
        # Forced control on, switch = trip, in one write (function 16).
        self.assertEqual(self.meter.holding.getValues(self.ACREL_CONTROL, 2), [1, 1])

    def test_valve_is_not_a_relay(self):
        out = self.ecmgw("relay", "xintai-water-meter", "off")
        self.assertEqual(out.returncode, 1)
        self.assertIn("describes no relay", out.stderr)


class SilentBusTest(unittest.TestCase):
    """A line with nothing on it, and flags that are wrong before any line is opened."""

    def setUp(self):
        self.workdir = workdir_for(self, "ecmgw-silent-")
        self.procs = Processes(self.workdir)
        self.addCleanup(self.procs.stop_all)
        self.line = PtyPair(self.procs, self.workdir, "empty")

    def test_scan_of_an_empty_dlt645_bus_exits_2(self):
        out = run_ecmgw("scan", "--device", self.line.master_end, "--timeout-ms", "100")
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("no meter found", out.stderr)
        self.assertIn("--search", out.stderr)

    def test_read_of_an_empty_cjt188_bus_exits_2(self):
        out = run_ecmgw("read", "--device", self.line.master_end, "--protocol", "cjt188",
                        "--timeout-ms", "100")
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("did not answer", out.stderr)

    def test_a_port_that_does_not_exist_is_exit_1(self):
        out = run_ecmgw("read", "--device", os.path.join(self.workdir, "nothing"))
        self.assertEqual(out.returncode, 1)

    def test_neither_device_nor_host_is_a_usage_error(self):
        out = run_ecmgw("read")
        self.assertEqual(out.returncode, 1)
        self.assertIn("--device", out.stderr)

    def test_a_malformed_address_is_a_usage_error(self):
        out = run_ecmgw("read", "--device", self.line.master_end, "--address", "12345")
        self.assertEqual(out.returncode, 1)
        self.assertIn("12 decimal digits", out.stderr)


class ConfiguredSimTest(unittest.TestCase):
    """ecmgw-sim serving the meters of a gateway config's bus (--config, --bus)."""

    METERS = []

    def setUp(self):
        if not sim_takes_a_config():
            self.skipTest("this ecmgw-sim serves only DL/T 645-2007 meters (no --config)")
        self.workdir = workdir_for(self, "ecmgw-sim-config-")
        self.procs = Processes(self.workdir)
        self.addCleanup(self.procs.stop_all)
        self.line = PtyPair(self.procs, self.workdir, "bench")
        config = os.path.join(self.workdir, "sim.toml")
        write_config(config, "gw-sim", os.path.join(self.workdir, "data"), "tcp://127.0.0.1:1883",
                     [{"name": "bench", "device": self.line.master_end}],
                     [{"bus": "bench", **m} for m in self.METERS])
        start_sim(self.procs, self.line.meter_end, "--config", config, "--bus", "bench")

    def ecmgw(self, command, *args):
        return run_ecmgw(command, "--device", self.line.master_end, *args)


class Cjt188CommandsTest(ConfiguredSimTest):
    ADDRESS = "12345678901234"
    METERS = [{"id": "W-1234", "protocol": "cjt188", "address": ADDRESS, "relay": True}]

    def ecmgw(self, command, *args):
        return super().ecmgw(command, "--protocol", "cjt188", *args)

    def test_read_finds_the_only_meter_and_gives_its_volume(self):
        out = self.ecmgw("read", "--json")
        self.assertEqual(out.returncode, 0, out.stderr)
        result = json.loads(out.stdout, parse_float=decimal.Decimal)
        self.assertEqual(result["address"], self.ADDRESS)
        self.assertIsInstance(result["values"]["volume_m3"], decimal.Decimal)
        self.assertEqual(result["errors"], [])

    def test_valve_close_then_open_reads_the_state_back(self):
        close = self.ecmgw("valve", "close")
        self.assertEqual(close.returncode, 0, close.stderr)
        self.assertIn("A017 = 99 (close)", close.stdout)
        self.assertIn("read back: closed", close.stdout)
        self.assertEqual(self.read_valve(), 0)
        opened = self.ecmgw("valve", "--address", self.ADDRESS, "open")
        self.assertEqual(opened.returncode, 0, opened.stderr)
        self.assertIn("read back: open", opened.stdout)
        self.assertEqual(self.read_valve(), 1)

    def read_valve(self):
        out = self.ecmgw("read", "--json", "--quantity", "valve_state")
        self.assertEqual(out.returncode, 0, out.stderr)
        return json.loads(out.stdout)["values"]["valve_state"]

    def test_a_water_meter_has_no_relay(self):
        out = self.ecmgw("relay", "off")
        self.assertEqual(out.returncode, 1)
        self.assertIn("ecmgw valve", out.stderr)

    def test_scan_prints_a_water_meter_block(self):
        out = self.ecmgw("scan", "--bus", "floor1")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(f'address = "{self.ADDRESS}"', out.stdout)
        self.assertIn('id = "W-1234"', out.stdout)
        self.assertIn('meter_type = "cold_water"', out.stdout)
        assert_pastes_into_a_config(self, self.line.master_end, out.stdout)


class Dlt645_1997CommandsTest(ConfiguredSimTest):
    ADDRESS = "000000001997"
    METERS = [{"id": "E-1997", "protocol": "dlt645-1997", "address": ADDRESS}]

    def ecmgw(self, command, *args):
        return super().ecmgw(command, "--protocol", "dlt645-1997", *args)

    def test_read_finds_the_meter_by_item_c032_and_reads_its_energy(self):
        out = self.ecmgw("read", "--json")
        self.assertEqual(out.returncode, 0, out.stderr)
        result = json.loads(out.stdout, parse_float=decimal.Decimal)
        self.assertEqual(result["address"], self.ADDRESS)
        self.assertIsInstance(result["values"]["import_energy_kwh"], decimal.Decimal)

    def test_scan_prints_a_meter_block(self):
        out = self.ecmgw("scan")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn(f'address = "{self.ADDRESS}"', out.stdout)
        self.assertIn('protocol = "dlt645-1997"', out.stdout)

    def test_relay_is_refused_for_dlt645_1997(self):
        out = self.ecmgw("relay", "off")
        self.assertEqual(out.returncode, 1)
        self.assertIn("DL/T 645-1997", out.stderr)


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
