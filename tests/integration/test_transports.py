"""A bus behind a serial-to-Ethernet server: socat stands in for the server,
passing a TCP connection through to the RS-485 line (a pty) unchanged."""

import decimal
import os
import unittest

from harness import ECMGW_SIM, Rig, free_port, read_log, unique_seqs, wait_for, write_config


def listening(port):
    """Whether something listens on the TCP port, seen without connecting: a probe
    connection would get a socat child of its own that reads the line for a moment
    and could take the first answer."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for row in f.readlines()[1:]:
                local, state = row.split()[1], row.split()[3]
                if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                    return True
    return False


class TcpSerialServerTest(unittest.TestCase):
    def setUp(self):
        self.rig = Rig(meters=2, interval_s=1)
        # Replace the rig's line with a serial server: one socat that opens its RS-485
        # side (a pty, where the simulated meters live) first and then listens on TCP,
        # as a real server's serial port exists before any client connects.
        self.rig.sim.terminate()
        self.rig.sim.wait(timeout=10)
        self.port = free_port()
        line = os.path.join(self.rig.workdir, "server-rs485")
        self.rig.procs.start("serial-server", [
            "socat", f"pty,raw,echo=0,link={line}",
            f"TCP-LISTEN:{self.port},bind=127.0.0.1,reuseaddr,fork"])
        wait_for(lambda: os.path.exists(line) and listening(self.port), 10,
                 "the serial server to listen")
        self.rig.sim = self.rig.procs.start("sim-behind-server", [
            ECMGW_SIM, "--device", line, "--meters", "2", "--answer-delay-ms", "5",
            "--answer-log", self.rig.answer_log])
        write_config(self.rig.config, "gw-test", self.rig.data_dir, self.rig.broker.uri,
                     [{"name": "floor1", "transport": "tcp", "host": "127.0.0.1", "port": self.port,
                       "timeout_ms": 500, "inter_byte_timeout_ms": 200, "gap_ms": 5}],
                     [{"id": mid, "bus": "floor1", "protocol": "dlt645-2007", "address": a,
                       "kind": "electricity", "interval_s": 1}
                      for a, mid in self.rig.meter_ids.items()])

    def tearDown(self):
        self.rig.close()

    def test_meters_behind_a_tcp_serial_server_are_read(self):
        daemon = self.rig.start_daemon()
        readings = wait_for(lambda: len(self.rig.feed.readings()) >= 10 and self.rig.feed.readings(),
                            60, "10 readings through the serial server")
        self.assertEqual(unique_seqs(readings), list(range(1, len(unique_seqs(readings)) + 1)))
        answers = self.rig.answers()
        for r in readings:
            sent = {decimal.Decimal(v) for v in answers.get((r["meter"], r["quantity"]), ())}
            self.assertIn(decimal.Decimal(r["value"]), sent)
        log = read_log(daemon)
        self.assertIn(f"bus floor1: opened tcp://127.0.0.1:{self.port}", log)
        self.assertNotIn("no answer", log)


if __name__ == "__main__":
    unittest.main()
