"""The MQTT session and the status topic, through the real binaries and a real
mosquitto: commands sent while the gateway was away are delivered when it is back
(persistent session), the retained status (birth, periodic refresh, clean shutdown,
last will), and failover to the next broker URI."""

import os
import re
import signal
import subprocess
import unittest

from harness import (ECMGW, Rig, command_body, free_port, publish_command, read_log, retained,
                     statuses, store_query, unique_seqs, wait_for)

KEY = "k3y-for-the-uplink-tests-0123456789abcdef"
ACCOUNT = """
[[tariff]]
id = "flat"
utility = "electricity"
price = "0.5"

[[account]]
id = "A-0001"
tariff = "flat"
opening_balance_fen = 1000
"""
RFC3339 = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"


def daemon_version():
    out = subprocess.run([ECMGW, "version"], capture_output=True, text=True, check=True).stdout
    return re.search(r"(\d+\.\d+\.\d+)", out).group(1)


class SessionTest(unittest.TestCase):
    def tearDown(self):
        self.rig.close()

    def test_a_command_sent_while_the_gateway_is_stopped_is_applied_when_it_is_back(self):
        self.rig = rig = Rig(meters=1, command_key=KEY, extra_config=ACCOUNT)
        daemon = rig.start_daemon()
        wait_for(lambda: rig.feed.readings(), 30, "first readings")
        daemon.send_signal(signal.SIGTERM)
        self.assertEqual(daemon.wait(timeout=30), 0)
        # The broker keeps the gateway's session: it queues the command for it.
        body = command_body("topup", account="A-0001", amount_fen=500, txn="wx-offline-1")
        publish_command(rig, body)
        rig.start_daemon()
        ack = rig.wait_ack(body["id"], 30)
        self.assertTrue(ack["ok"], ack)
        rows = store_query(rig.data_dir, "SELECT amount_fen FROM ledger WHERE kind = 'topup'")
        self.assertEqual(rows, [(500,)])
        self.assertIn("session kept", read_log(rig.daemon))

    def test_status_birth_refresh_shutdown_and_will(self):
        self.rig = rig = Rig(meters=1, cloud={"status_interval_s": 1})
        version = daemon_version()
        daemon = rig.start_daemon()
        birth = wait_for(lambda: [s for s in statuses(rig.feed) if s["online"]], 30, "the birth status")[0]
        self.assertEqual(birth["gateway"], "gw-test")
        self.assertEqual(birth["version"], version)
        self.assertIsInstance(birth["backlog"], int)
        self.assertRegex(birth["since"], RFC3339)
        # Refreshed: the same connection (since), a later time.
        later = wait_for(lambda: [s for s in statuses(rig.feed) if s["online"] and s["ts"] > birth["ts"]],
                         30, "a refreshed status")[0]
        self.assertEqual(later["since"], birth["since"])
        kept = retained(rig.broker, "ecm/v1/gw-test/status")
        self.assertTrue(kept["online"])

        daemon.send_signal(signal.SIGTERM)
        self.assertEqual(daemon.wait(timeout=30), 0)
        gone = retained(rig.broker, "ecm/v1/gw-test/status")
        self.assertEqual((gone["online"], gone["reason"], gone["version"]), (False, "shutdown", version))
        self.assertEqual(gone["backlog"], store_query(rig.data_dir, "SELECT count(*) FROM outbox")[0][0])

        daemon = rig.start_daemon()
        wait_for(lambda: (retained(rig.broker, "ecm/v1/gw-test/status", 5) or {}).get("online"), 30,
                 "online again")
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(timeout=10)
        # The broker publishes the will when the connection dies.
        will = wait_for(lambda: (lambda s: s if s and not s["online"] else None)(
            retained(rig.broker, "ecm/v1/gw-test/status", 5)), 30, "the last will")
        self.assertEqual((will["reason"], will["version"]), ("connection_lost", version))
        self.assertIsInstance(will["backlog"], int)

    def test_failover_to_the_next_broker_uri(self):
        dead = free_port()
        self.rig = rig = Rig(meters=1, uri=lambda b: [f"tcp://127.0.0.1:{dead}", b.uri])
        rig.start_daemon()
        readings = wait_for(lambda: len(rig.feed.readings()) >= 5 and rig.feed.readings(), 60,
                            "readings through the second broker")
        self.assertEqual(unique_seqs(readings)[:5], [1, 2, 3, 4, 5])
        self.assertIn(f"cloud: connected to {rig.broker.uri}", read_log(rig.daemon))


if __name__ == "__main__":
    unittest.main()
