"""`ecmgw scan` beyond one meter: the DL/T 645 address search with partial
wildcards over several meters whose answers collide, and the progress bar a
technician sees on a terminal.

ecmgw-sim's meters answer only their own address or, alone on a bus, the full
wildcard; the meters that also take AA in single address bytes (which DL/T 645
allows and some vendors implement) are PartialWildcardMeters below."""

import os
import pty
import select
import subprocess
import threading
import tomllib
import unittest

from harness import ECMGW, Processes, PtyPair
from test_cli import SCAN_TIMEOUT_MS, SDM120_VALUES, PymodbusMeter, run_ecmgw, workdir_for

WILDCARD = 0xAA


def bcd_wire(address):
    """'202012345678' → the six address bytes on the wire, A0 (lowest digits) first."""
    return bytes(int(address[i:i + 2], 16) for i in range(10, -1, -2))


def encode_frame(address_wire, control, data):
    body = bytes([0x68]) + address_wire + bytes([0x68, control, len(data)])
    body += bytes((b + 0x33) & 0xFF for b in data)
    return b"\xfe\xfe" + body + bytes([sum(body) & 0xFF, 0x16])


def collide(frames):
    """What the master hears when meters talk at once: their bytes overlaid, and
    a checksum that no longer adds up."""
    length = max(len(f) for f in frames)
    mixed = bytearray(length)
    for f in frames:
        for i, b in enumerate(f):
            mixed[i] |= b
    mixed[-2] = (mixed[-2] + 1) & 0xFF
    return bytes(mixed)


def next_request(buffer):
    """(frame, bytes used) for the first complete DL/T 645 frame in `buffer`, or (None, bytes to drop)."""
    start = buffer.find(0x68)
    if start < 0:
        return None, len(buffer)
    if len(buffer) < start + 12:
        return None, start
    if buffer[start + 7] != 0x68:
        return None, start + 1
    end = start + 12 + buffer[start + 9]
    if len(buffer) < end:
        return None, start
    frame = buffer[start:end]
    if sum(frame[:-2]) & 0xFF != frame[-2] or frame[-1] != 0x16:
        return None, start + 1
    return frame, end


class PartialWildcardMeters:
    """DL/T 645-2007 meters on the meter end of a pty pair that answer read data
    (0x11) for any address matching theirs where it is not AA, and read-address
    (0x13). When several match, their answers collide."""

    def __init__(self, device, addresses):
        self.meters = [bcd_wire(a) for a in addresses]
        self.fd = os.open(device, os.O_RDWR | os.O_NOCTTY)
        self.requests = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @staticmethod
    def _matches(pattern, meter):
        return all(p in (WILDCARD, m) for p, m in zip(pattern, meter))

    def _answer(self, frame):
        self.requests += 1
        pattern, control = frame[1:7], frame[8]
        data = bytes((b - 0x33) & 0xFF for b in frame[10:-2])
        if control == 0x13:
            answers = [encode_frame(m, 0x93, m) for m in self.meters if self._matches(pattern, m)]
        elif control == 0x11:
            energy = bytes([0x45, 0x23, 0x01, 0x00])  # 000123.45 kWh
            answers = [encode_frame(m, 0x91, data[:4] + energy) for m in self.meters if self._matches(pattern, m)]
        else:
            answers = []
        if len(answers) == 1:
            os.write(self.fd, answers[0])
        elif answers:
            os.write(self.fd, collide(answers))

    def _serve(self):
        pending = b""
        while not self.stopping.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if not ready:
                continue
            pending += os.read(self.fd, 512)
            while pending:
                frame, used = next_request(pending)
                pending = pending[used:]
                if frame is None:
                    break
                self._answer(frame)

    def close(self):
        self.stopping.set()
        self.thread.join(10)
        os.close(self.fd)


class AddressSearchTest(unittest.TestCase):
    # Three share A0 = 78; two of those share A1 = 56 too: the search descends two bytes.
    ADDRESSES = ["202012345678", "202012335678", "202012340078", "000000000178", "202012345699"]

    def setUp(self):
        self.workdir = workdir_for(self, "ecmgw-search-")
        self.procs = Processes(self.workdir)
        self.addCleanup(self.procs.stop_all)
        self.line = PtyPair(self.procs, self.workdir, "floor")
        self.meters = PartialWildcardMeters(self.line.meter_end, self.ADDRESSES)
        self.addCleanup(self.meters.close)

    def test_colliding_answers_start_a_search_that_finds_every_meter(self):
        out = run_ecmgw("scan", "--device", self.line.master_end, "--timeout-ms", "150", "--bus", "riser-2")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("several meters answered the wildcard", out.stderr)
        found = tomllib.loads(out.stdout)["meter"]
        self.assertEqual(sorted(m["address"] for m in found), sorted(self.ADDRESSES))
        self.assertEqual({m["bus"] for m in found}, {"riser-2"})
        ids = [m["id"] for m in found]
        self.assertEqual(len(set(ids)), len(ids), ids)
        # Two meters end in 5678: their ids carry the whole address.
        self.assertIn("E-202012345678", ids)
        self.assertIn("E-5699", ids)
        # One read-address, 100 values of A0, 100 of A1 under 78, 100 of A2 under 78 56.
        self.assertEqual(self.meters.requests, 301)
        # Without a terminal: one line per meter found, and no bar.
        self.assertEqual(out.stderr.count("found meter"), len(self.ADDRESSES))
        self.assertNotIn("\r", out.stderr)


def run_with_terminal_stderr(args):
    """Runs ecmgw with stderr on a pseudo-terminal, as a technician's shell has it."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([ECMGW, *args], stdout=subprocess.PIPE, stderr=slave, text=True)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the process closed its end
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    stdout, _ = proc.communicate(timeout=120)
    return proc.returncode, stdout, seen.decode(errors="replace")


class ProgressTest(unittest.TestCase):
    def setUp(self):
        self.workdir = workdir_for(self, "ecmgw-progress-")
        self.procs = Processes(self.workdir)
        self.addCleanup(self.procs.stop_all)
        self.line = PtyPair(self.procs, self.workdir, "modbus")
        self.meter = PymodbusMeter(self.line.meter_end, 4, SDM120_VALUES)
        self.addCleanup(self.meter.close)

    def test_a_terminal_sees_a_bar_with_units_found_and_time_left(self):
        code, stdout, terminal = run_with_terminal_stderr(
            ["scan", "--device", self.line.master_end, "--protocol", "modbus", "--to", "12",
             "--timeout-ms", SCAN_TIMEOUT_MS])
        self.assertEqual(code, 0, terminal)
        self.assertIn("unit = 4", stdout)
        self.assertIn("\r[", terminal)
        self.assertRegex(terminal, r"\[#{20}\] 12/12 units, 1 found, \d+ s left")
        self.assertRegex(terminal, r"\[[#.]{20}\] \d+/12 units, 0 found")
        self.assertIn("found modbus unit 4", terminal)


if __name__ == "__main__":
    unittest.main()
