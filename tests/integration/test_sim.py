"""ecmgw-sim serving one bus of mixed protocols from a gateway config file, checked
with independent masters (Debian's mbpoll, hand-built frames) and with the ecmgw
binary itself; its faults; its wire-time emulation; and the daemon polling it."""

import decimal
import json
import os
import select
import shutil
import subprocess
import tempfile
import termios
import time
import tty
import unittest

from harness import (ECMGW, ECMGW_SIM, PROFILES_DIR, Processes, PtyPair, Rig, read_log,
                     store_query, wait_for, write_config)

MBPOLL = shutil.which("mbpoll") or "/usr/bin/mbpoll"

# One bus, every protocol, and the meters the fault tests use. The bus runs 9600 8N1 so
# that mbpoll (which may fail to set parity on a pty) and ecmgw agree with the simulator.
METERS = [
    {"id": "E-0001", "protocol": "dlt645-2007", "address": "000000000001"},
    {"id": "E-0002", "protocol": "dlt645-1997", "address": "000000000002"},
    {"id": "W-0001", "protocol": "cjt188", "address": "12345678901234", "kind": "water"},
    {"id": "M-0003", "protocol": "modbus", "unit": 3, "profile": "eastron-sdm120"},
    {"id": "M-0004", "protocol": "modbus", "unit": 4, "profile": "xintai-water-meter",
     "kind": "water"},
    {"id": "M-0005", "protocol": "modbus", "unit": 5, "profile": "eastron-sdm120"},
    {"id": "E-0009", "protocol": "dlt645-2007", "address": "000000000009"},
    {"id": "E-0010", "protocol": "dlt645-2007", "address": "000000000010"},
    {"id": "E-0011", "protocol": "dlt645-2007", "address": "000000000011"},
    {"id": "E-0012", "protocol": "dlt645-2007", "address": "000000000012"},
]
FAULTS = ["E-0009:dead", "E-0010:drop=1.0", "E-0011:corrupt=1.0", "E-0012:wrong-address=1",
          "5:corrupt=1"]
FAULT_ARGS = [arg for f in FAULTS for arg in ("--fault", f)]


# --- frames, built by hand so the check does not share the gateway's codecs -------------

def dlt645_request(address, control, data, wakeup=4):
    body = (b"\x68" + bytes.fromhex(address)[::-1] + b"\x68" + bytes([control, len(data)]) +
            bytes((b + 0x33) & 0xFF for b in data))
    return b"\xFE" * wakeup + body + bytes([sum(body) & 0xFF, 0x16])


def dlt645_frames(raw):
    """Every frame with DL/T 645's structure in `raw`: (address, control, data, checksum ok)."""
    out = []
    for i in range(len(raw)):
        if raw[i] != 0x68 or i + 12 > len(raw) or raw[i + 7] != 0x68:
            continue
        length = raw[i + 9]
        end = i + 10 + length
        if end + 1 >= len(raw) or raw[end + 1] != 0x16:
            continue
        address = raw[i + 1:i + 7][::-1].hex()
        data = bytes((b - 0x33) & 0xFF for b in raw[i + 10:end])
        out.append((address, raw[i + 8], data, sum(raw[i:end]) & 0xFF == raw[end]))
    return out


def bcd(data):
    """Packed BCD, low byte first, as an integer."""
    return int(data[::-1].hex())


def cjt188_request(address, control, data, meter_type=0x10):
    body = bytes([0x68, meter_type]) + bytes.fromhex(address)[::-1] + bytes([control, len(data)]) + data
    return b"\xFE\xFE" + body + bytes([sum(body) & 0xFF, 0x16])


class RawPort:
    """The gateway's end of the line, driven by hand: write a request, collect what
    comes back until `complete(bytes)` or the timeout."""

    def __init__(self, device):
        self.fd = os.open(device, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)

    def close(self):
        os.close(self.fd)

    def exchange(self, request, complete=None, timeout=1.0):
        termios.tcflush(self.fd, termios.TCIFLUSH)
        sent = time.monotonic()
        os.write(self.fd, request)
        got, first, done = b"", None, None
        deadline = sent + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                continue
            got += os.read(self.fd, 512)
            first = first or time.monotonic()
            if complete and complete(got):
                done = time.monotonic()
                break
        return got, (first - sent if first else None), (done - sent if done else None)


def dlt645_answered(raw):
    return any(f[3] for f in dlt645_frames(raw))


class SimBus:
    """socat, and ecmgw-sim serving the mixed bus of a config file."""

    def __init__(self, test, sim_args=()):
        self.workdir = tempfile.mkdtemp(prefix="ecmgw-sim-")
        test.addCleanup(shutil.rmtree, self.workdir, ignore_errors=True)
        self.procs = Processes(self.workdir)
        test.addCleanup(self.procs.stop_all)
        self.line = PtyPair(self.procs, self.workdir, "mixed")
        self.config = os.path.join(self.workdir, "ecmgw.toml")
        bus = {"name": "floor1", "device": self.line.master_end, "baud": 9600, "parity": "N"}
        write_config(self.config, "gw-sim", os.path.join(self.workdir, "data"), "tcp://127.0.0.1:1",
                     [bus], [{"bus": "floor1", **m} for m in METERS], profiles_dir=PROFILES_DIR)
        self.answer_log = os.path.join(self.workdir, "answers.jsonl")
        self.sim = self.procs.start("sim", [
            ECMGW_SIM, "--device", self.line.meter_end, "--config", self.config, "--bus", "floor1",
            "--answer-delay-ms", "5", "--answer-log", self.answer_log, *sim_args])
        wait_for(lambda: "serving" in read_log(self.sim) or self.sim.poll() is not None, 10,
                 "ecmgw-sim to serve")
        test.assertIsNone(self.sim.poll(), read_log(self.sim))
        self.port = None

    def raw(self):
        if self.port is None:
            self.port = RawPort(self.line.master_end)
        return self.port

    def close(self):
        if self.port is not None:
            self.port.close()

    def answered(self, meter):
        """quantity → the last number the simulator answered for `meter`."""
        out = {}
        if os.path.exists(self.answer_log):
            with open(self.answer_log) as f:
                for line in f:
                    a = json.loads(line)
                    if a["meter"] == meter:
                        try:
                            out[a["quantity"]] = decimal.Decimal(a["value"])
                        except decimal.InvalidOperation:
                            pass  # dates and times
        return out

    def ecmgw_read(self, *args):
        out = subprocess.run([ECMGW, "read", "--device", self.line.master_end, "--baud", "9600",
                              "--parity", "N", "--json", *args],
                             capture_output=True, text=True, timeout=60,
                             env={**os.environ, "ECMGW_PROFILES_DIR": PROFILES_DIR})
        return out

    def read_values(self, test, *args):
        out = self.ecmgw_read(*args)
        test.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return json.loads(out.stdout, parse_float=decimal.Decimal)["values"]

    def mbpoll(self, unit, *args, write=()):
        """mbpoll on the gateway's end: reads, or writes the values in `write`."""
        return subprocess.run([MBPOLL, "-m", "rtu", "-a", str(unit), "-b", "9600", "-P", "none",
                               "-0", "-1", "-o", "0.5", *args, self.line.master_end, *write],
                              capture_output=True, text=True, timeout=30)


def mbpoll_values(out):
    """'[12]: 	230.1' lines → {12: '230.1'}."""
    values = {}
    for line in out.splitlines():
        if line.startswith("[") and "]:" in line:
            ref, value = line.split("]:", 1)
            values[int(ref[1:])] = value.strip()
    return values


class ProtocolsTest(unittest.TestCase):
    """Each protocol on the mixed bus answers its own master; only the addressed meter answers."""

    def setUp(self):
        self.bus = SimBus(self, FAULT_ARGS)
        self.addCleanup(self.bus.close)

    def test_dlt645_2007_meter_answers_ecmgw_read(self):
        values = self.bus.read_values(self, "--protocol", "dlt645-2007", "--address", "000000000001")
        sent = self.bus.answered("E-0001")
        for q in ("energy_kwh", "import_energy_kwh", "voltage_a_v", "current_a_a",
                  "active_power_kw", "frequency_hz"):
            self.assertEqual(decimal.Decimal(values[q]), sent[q], q)
        self.assertEqual(values["voltage_a_v"], decimal.Decimal("220.0"))
        self.assertEqual(values["energy_kwh"], decimal.Decimal("100.00"))

    def test_dlt645_2007_block_answer_has_the_members_back_to_back(self):
        raw, _, _ = self.bus.raw().exchange(
            dlt645_request("000000000001", 0x11, bytes([0x00, 0xFF, 0x01, 0x00])), dlt645_answered)
        frames = [f for f in dlt645_frames(raw) if f[3]]
        self.assertEqual(len(frames), 1, raw.hex(" "))
        address, control, data, _ = frames[0]
        self.assertEqual((address, control), ("000000000001", 0x91))
        self.assertEqual(data[:4], bytes([0x00, 0xFF, 0x01, 0x00]))
        members = [bcd(data[4 + 4 * i:8 + 4 * i]) for i in range(5)]
        self.assertEqual(len(data), 4 + 20)
        self.assertEqual(members[0], members[3])  # everything in the flat period
        self.assertEqual((members[1], members[2], members[4]), (0, 0, 0))

    def test_dlt645_1997_meter_answers_ecmgw_read_and_a_hand_built_9010(self):
        values = self.bus.read_values(self, "--protocol", "dlt645-1997", "--address", "000000000002",
                                      "--quantity", "import_energy_kwh", "--quantity", "voltage_a_v")
        sent = self.bus.answered("E-0002")
        self.assertEqual(decimal.Decimal(values["import_energy_kwh"]), sent["import_energy_kwh"])
        self.assertEqual(decimal.Decimal(values["voltage_a_v"]), decimal.Decimal(220))

        raw, _, _ = self.bus.raw().exchange(dlt645_request("000000000002", 0x01, bytes([0x10, 0x90])),
                                            dlt645_answered)
        frames = [f for f in dlt645_frames(raw) if f[3]]
        self.assertEqual(len(frames), 1, raw.hex(" "))
        address, control, data, _ = frames[0]
        self.assertEqual((address, control, data[:2]), ("000000000002", 0x81, bytes([0x10, 0x90])))
        self.assertEqual(bcd(data[2:6]), 20000)  # 200.00 kWh: the second meter's start

    def test_a_2007_function_to_the_1997_meter_gets_no_answer(self):
        raw, _, _ = self.bus.raw().exchange(
            dlt645_request("000000000002", 0x11, bytes([0x00, 0x00, 0x01, 0x00])), timeout=0.5)
        self.assertEqual(raw, b"")

    def test_cjt188_meter_answers_read_data_in_the_documented_layout(self):
        request = cjt188_request("12345678901234", 0x01, bytes([0x1F, 0x90, 0x07]))
        raw, _, _ = self.bus.raw().exchange(request, lambda b: b.endswith(b"\x16") and len(b) >= 37)
        frame = raw[raw.index(0x68):]
        self.assertEqual(frame[:11], bytes.fromhex("68 10 34 12 90 78 56 34 12 81 16"))
        self.assertEqual(frame[11:14], bytes([0x1F, 0x90, 0x07]))  # DI and our SER
        self.assertEqual((frame[18], frame[23]), (0x2C, 0x2C))  # m³
        self.assertEqual(bcd(frame[19:23]), 30000)  # settlement 300.00 m³: the third meter's start
        self.assertGreaterEqual(bcd(frame[14:18]), 30000)
        self.assertEqual(frame[31:33], bytes([0x00, 0x00]))  # ST: valve open, battery fine
        self.assertEqual(frame[33], sum(frame[:33]) & 0xFF)
        self.assertEqual(frame[34], 0x16)

        values = self.bus.read_values(self, "--protocol", "cjt188", "--address", "12345678901234")
        self.assertEqual(decimal.Decimal(values["volume_m3"]), self.bus.answered("W-0001")["volume_m3"])

    def test_cjt188_valve_answer_is_the_documented_frame(self):
        # close valve, SER 02: 68 10 34 12 90 78 56 34 12 04 04 17 A0 02 99 BC 16
        raw, _, _ = self.bus.raw().exchange(bytes.fromhex("68 10 34 12 90 78 56 34 12 04 04 17 A0 02 99 BC 16"),
                                            lambda b: b.endswith(b"\x16") and len(b) >= 18)
        self.assertEqual(raw[raw.index(0x68):],
                         bytes.fromhex("68 10 34 12 90 78 56 34 12 84 05 17 A0 02 01 00 A5 16"))

    @unittest.skipUnless(os.path.exists(MBPOLL), "mbpoll is not installed")
    def test_modbus_meter_answers_mbpoll_from_the_profile_map(self):
        out = self.bus.mbpoll(3, "-t", "3:float", "-B", "-r", "0", "-c", "1")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        voltage = mbpoll_values(out.stdout)[0]
        self.assertEqual(decimal.Decimal(voltage), self.bus.answered("M-0003")["voltage_a_v"])
        self.assertTrue(voltage.startswith("230."), voltage)
        out = self.bus.mbpoll(3, "-t", "3:float", "-B", "-r", str(0x0156), "-c", "1")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(decimal.Decimal(mbpoll_values(out.stdout)[0x0156]),
                         self.bus.answered("M-0003")["energy_kwh"])

        values = self.bus.read_values(self, "--protocol", "modbus", "--unit", "3",
                                      "--profile", "eastron-sdm120")
        sent = self.bus.answered("M-0003")
        for q in ("voltage_a_v", "current_a_a", "active_power_kw", "frequency_hz", "energy_kwh"):
            self.assertEqual(decimal.Decimal(values[q]), sent[q], q)

    @unittest.skipUnless(os.path.exists(MBPOLL), "mbpoll is not installed")
    def test_modbus_valve_write_switches_the_state_register_and_stops_the_flow(self):
        state = lambda: mbpoll_values(self.bus.mbpoll(4, "-t", "4", "-r", str(0x1C)).stdout)[0x1C]
        self.assertEqual(state(), "1")  # open
        out = self.bus.mbpoll(4, "-t", "4", "-r", str(0x1C), write=["2"])  # close
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(state(), "2")
        flow = self.bus.mbpoll(4, "-t", "4:hex", "-r", "5", "-c", "2")
        self.assertEqual(list(mbpoll_values(flow.stdout).values()), ["0x0000", "0x0000"])
        refused = self.bus.mbpoll(4, "-t", "4", "-r", "1", write=["7"])  # a measured register
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("Illegal data address", refused.stdout + refused.stderr)

    @unittest.skipUnless(os.path.exists(MBPOLL), "mbpoll is not installed")
    def test_a_unit_nobody_has_gets_no_answer(self):
        out = self.bus.mbpoll(42, "-t", "3", "-r", "0")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("timed out", (out.stdout + out.stderr).lower())


class FaultsTest(unittest.TestCase):
    def setUp(self):
        self.bus = SimBus(self, FAULT_ARGS)
        self.addCleanup(self.bus.close)

    def read_2007(self, address):
        return self.bus.raw().exchange(dlt645_request(address, 0x11, bytes([0, 0, 1, 0])),
                                       dlt645_answered, timeout=0.8)[0]

    def test_a_dead_meter_never_answers(self):
        for _ in range(3):
            self.assertEqual(self.read_2007("000000000009"), b"")
        out = self.bus.ecmgw_read("--address", "000000000009", "--timeout-ms", "300")
        self.assertEqual(out.returncode, 2, out.stderr)
        self.assertIn("did not answer", out.stderr)

    def test_drop_1_never_answers(self):
        for _ in range(3):
            self.assertEqual(self.read_2007("000000000010"), b"")
        self.assertEqual(self.bus.ecmgw_read("--address", "000000000010", "--timeout-ms", "300").returncode, 2)

    def test_corrupt_gives_whole_frames_with_bad_checksums(self):
        for _ in range(3):
            frames = dlt645_frames(self.read_2007("000000000011"))
            self.assertEqual(len(frames), 1)
            self.assertFalse(frames[0][3], "the checksum must fail")
        # ecmgw read hears an answer (so the meter is there) but takes no value from it.
        out = self.bus.ecmgw_read("--address", "000000000011", "--timeout-ms", "300",
                                  "--quantity", "energy_kwh")
        if out.returncode == 0:
            result = json.loads(out.stdout)
            self.assertEqual(result["values"], {}, out.stdout)
            self.assertTrue(result["errors"], out.stdout)

    def test_wrong_address_answers_come_from_the_neighbour(self):
        frames = [f for f in dlt645_frames(self.read_2007("000000000012")) if f[3]]
        self.assertEqual([f[0] for f in frames], ["000000000013"])
        out = self.bus.ecmgw_read("--address", "000000000012", "--timeout-ms", "300",
                                  "--quantity", "energy_kwh")
        if out.returncode == 0:
            self.assertEqual(json.loads(out.stdout)["values"], {}, out.stdout)

    @unittest.skipUnless(os.path.exists(MBPOLL), "mbpoll is not installed")
    def test_corrupt_modbus_answers_fail_their_crc(self):
        out = self.bus.mbpoll(5, "-t", "3", "-r", "0", "-c", "2")
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("crc", (out.stdout + out.stderr).lower())
        # The healthy meter beside it still answers.
        self.assertEqual(self.bus.mbpoll(3, "-t", "3", "-r", "0", "-c", "2").returncode, 0)

    def test_the_other_meters_are_unaffected(self):
        self.assertTrue(dlt645_answered(self.read_2007("000000000001")))


class ConsumptionTest(unittest.TestCase):
    """With the clock at 3600× (a second is an hour), water visibly flows while the valve
    is open and stops when the gateway closes it."""

    def test_cjt188_volume_stops_while_the_valve_is_closed(self):
        bus = SimBus(self, ["--speed", "3600"])
        self.addCleanup(bus.close)
        args = ("--protocol", "cjt188", "--address", "12345678901234")
        volume = lambda: decimal.Decimal(bus.read_values(self, *args)["volume_m3"])
        first = volume()
        time.sleep(1.0)
        self.assertGreater(volume(), first)
        close = subprocess.run([ECMGW, "valve", "--device", bus.line.master_end, "--baud", "9600",
                                "--parity", "N", *args, "close"],
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(close.returncode, 0, close.stdout + close.stderr)
        closed = volume()
        time.sleep(1.0)
        self.assertEqual(volume(), closed)


class WireTimeTest(unittest.TestCase):
    """At 2400 8E1 a character takes 11/2400 s: the answer to a DL/T 645 energy read
    (20 request bytes with 4 FE, 22 answer bytes with 2 FE) completes no earlier than
    42 characters plus Td after the request was written."""

    def start(self, *args):
        workdir = tempfile.mkdtemp(prefix="ecmgw-wire-")
        self.addCleanup(shutil.rmtree, workdir, ignore_errors=True)
        procs = Processes(workdir)
        self.addCleanup(procs.stop_all)
        line = PtyPair(procs, workdir, "wire")
        sim = procs.start("sim", [ECMGW_SIM, "--device", line.meter_end, "--address", "000000000001",
                                  "--baud", "2400", "--parity", "E", "--answer-delay-ms", "20", *args])
        wait_for(lambda: "serving" in read_log(sim), 10, "ecmgw-sim to serve")
        port = RawPort(line.master_end)
        self.addCleanup(port.close)
        return port

    def times(self, port):
        request = dlt645_request("000000000001", 0x11, bytes([0, 0, 1, 0]))
        self.assertEqual(len(request), 20)
        results = [port.exchange(request, lambda b: len(b) >= 22 and dlt645_answered(b)) for _ in range(3)]
        for raw, first, done in results:
            self.assertEqual(len(raw), 22, raw.hex(" "))
            self.assertIsNotNone(done)
        return min(r[1] for r in results), min(r[2] for r in results)

    def test_answers_take_the_wire_time_of_both_frames(self):
        char = 11 / 2400
        first, done = self.times(self.start("--wire-time"))
        self.assertGreaterEqual(first, (20 + 1) * char + 0.020 - 0.002)
        self.assertGreaterEqual(done, (20 + 22) * char + 0.020 - 0.002)
        self.assertLess(done, (20 + 22) * char + 0.020 + 0.150)

    def test_without_wire_time_only_the_answer_delay(self):
        _, done = self.times(self.start())
        self.assertLess(done, (20 + 22) * 11 / 2400)


class DaemonTest(unittest.TestCase):
    """The daemon polls every protocol of the mixed bus from the same config file the
    simulator reads; every value it publishes was answered by the simulator."""

    def test_the_daemon_reads_every_protocol_on_one_bus(self):
        meters = [{k: v for k, v in m.items()} for m in METERS[:5]]
        rig = Rig(meter_configs=meters, interval_s=1,
                  bus_extra={"baud": 9600, "parity": "N", "timeout_ms": 300})
        try:
            rig.start_daemon()
            wanted = {"E-0001": "energy_kwh", "E-0002": "import_energy_kwh", "W-0001": "volume_m3",
                      "M-0003": "energy_kwh", "M-0004": "volume_m3"}

            def seen():
                got = {(r["meter"], r["quantity"]) for r in rig.feed.readings()}
                return all((m, q) in got for m, q in wanted.items())
            wait_for(seen, 90, "a reading of every meter over MQTT")
            answers = rig.answers()
            for r in rig.feed.readings():
                sent = {decimal.Decimal(v) for v in answers.get((r["meter"], r["quantity"]), ())}
                self.assertIn(decimal.Decimal(r["value"]), sent,
                              f"{r['meter']} {r['quantity']} = {r['value']} was never answered")
            stored = store_query(rig.data_dir, "SELECT DISTINCT meter FROM readings ORDER BY meter")
            self.assertEqual([m for (m,) in stored], sorted(wanted))
        finally:
            rig.close()

    def test_a_meter_that_refuses_blocks_is_read_item_by_item(self):
        wanted = ["import_energy_kwh", "import_energy_t1_kwh", "import_energy_t3_kwh"]
        meters = [{"id": "E-0001", "protocol": "dlt645-2007", "address": "000000000001",
                   "quantities": wanted},
                  {"id": "E-0002", "protocol": "dlt645-2007", "address": "000000000002",
                   "quantities": wanted}]
        rig = Rig(meter_configs=meters, interval_s=1, sim_args=["--no-blocks", "E-0002"])
        try:
            rig.start_daemon()

            def seen():
                got = {(r["meter"], r["quantity"]) for r in rig.feed.readings()}
                return all((m, q) in got for m in ("E-0001", "E-0002") for q in wanted)
            wait_for(seen, 60, "every wanted quantity of both meters")
            answers = rig.answers()
            for r in rig.feed.readings():
                sent = {decimal.Decimal(v) for v in answers.get((r["meter"], r["quantity"]), ())}
                self.assertIn(decimal.Decimal(r["value"]), sent, r)
            # A block answer carries every tariff, wanted or not; single items only those asked.
            self.assertIn(("E-0001", "import_energy_t4_kwh"), answers)
            self.assertNotIn(("E-0002", "import_energy_t4_kwh"), answers)
        finally:
            rig.close()


if __name__ == "__main__":
    unittest.main()
