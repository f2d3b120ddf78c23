"""Brokers that ask who the gateway is, through the real binaries and a real mosquitto:
a user name and password file accepted; a wrong password refused (the daemon keeps
polling, says why, and connects once the password file is fixed, without a restart);
TLS with a CA and server and client certificates made here with openssl; a broker
certificate from another CA, or for another host name, refused."""

import os
import subprocess
import unittest

from harness import Rig, read_log, store_query, wait_for

PASSWORD = "s3cret-for-the-gateway"


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
            "-keyout", f"{name}.key", "-out", f"{name}.crt", cwd=d)


def make_cert(d, name, ca, san):
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", cwd=d)
    with open(os.path.join(d, f"{name}.ext"), "w") as f:
        f.write(f"subjectAltName = {san}\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=d)


class PasswordTest(unittest.TestCase):
    def tearDown(self):
        self.rig.close()

    def test_wrong_password_refused_then_accepted_once_fixed(self):
        def listener(workdir):
            subprocess.run(["mosquitto_passwd", "-b", "-c", f"{workdir}/passwd", "gw-test", PASSWORD],
                           check=True, capture_output=True)
            return f"allow_anonymous false\npassword_file {workdir}/passwd\n"
        # The password file must exist before the broker starts: make it in a scratch dir.
        import tempfile
        scratch = tempfile.mkdtemp(prefix="ecmgw-pw-")
        os.chmod(scratch, 0o755)
        password_file = os.path.join(scratch, "gw.password")
        with open(password_file, "w") as f:
            f.write("wrong-password\n")
        self.rig = rig = Rig(meters=1, broker_listener=listener(scratch),
                             uri=lambda b: f"tcp://127.0.0.1:{b.daemon_port}",
                             cloud={"username": "gw-test", "password_file": password_file})
        daemon = rig.start_daemon()
        wait_for(lambda: "bad user name or password" in read_log(daemon)
                 or "not authorized" in read_log(daemon), 30, "the refusal in the log")
        # Polling goes on into the outbox.
        wait_for(lambda: store_query(rig.data_dir, "SELECT count(*) FROM outbox")[0][0] >= 10, 30,
                 "readings kept in the outbox")
        self.assertEqual(rig.feed.readings(), [])
        with open(password_file, "w") as f:
            f.write(f"  {PASSWORD}\n")  # white space around it is not part of it
        readings = wait_for(lambda: len(rig.feed.readings()) >= 10 and rig.feed.readings(), 90,
                            "readings once the password is right")
        self.assertEqual(readings[0]["seq"], 1)
        self.assertEqual(daemon.poll(), None)


class TlsTest(unittest.TestCase):
    def tearDown(self):
        self.rig.close()

    def tls_rig(self, ca, host="localhost"):
        import tempfile
        d = tempfile.mkdtemp(prefix="ecmgw-tls-")
        os.chmod(d, 0o755)
        make_ca(d, "ca")
        make_ca(d, "other-ca")
        make_cert(d, "server", "ca", "DNS:localhost")
        make_cert(d, "client", "ca", "DNS:gw-test")
        for f in os.listdir(d):
            os.chmod(os.path.join(d, f), 0o644)
        listener = (f"allow_anonymous true\ncafile {d}/ca.crt\ncertfile {d}/server.crt\n"
                    f"keyfile {d}/server.key\nrequire_certificate true\n")
        self.rig = Rig(meters=1, broker_listener=listener,
                       uri=lambda b: f"ssl://{host}:{b.daemon_port}",
                       cloud={"ca_file": f"{d}/{ca}.crt", "cert_file": f"{d}/client.crt",
                              "key_file": f"{d}/client.key"})
        return self.rig

    def test_tls_with_client_certificate(self):
        rig = self.tls_rig("ca")
        rig.start_daemon()
        readings = wait_for(lambda: len(rig.feed.readings()) >= 5 and rig.feed.readings(), 60,
                            "readings over TLS")
        self.assertEqual(readings[0]["seq"], 1)
        self.assertIn("cloud: connected to ssl://localhost:", read_log(rig.daemon))

    def assert_refused(self, rig):
        daemon = rig.start_daemon()
        # Refused means: never connected while readings pile up in the outbox. The log's
        # wording depends on when Paho's TLS error handler runs (an ASan build differs).
        wait_for(lambda: store_query(rig.data_dir, "SELECT count(*) FROM outbox")[0][0] >= 5, 30,
                 "readings kept in the outbox")
        self.assertNotIn("cloud: connected", read_log(daemon))
        self.assertEqual(rig.feed.readings(), [])

    def test_a_broker_certificate_from_another_ca_is_refused(self):
        self.assert_refused(self.tls_rig("other-ca"))

    def test_a_broker_certificate_for_another_host_is_refused(self):
        # The certificate names localhost; the gateway was told 127.0.0.1.
        rig = self.tls_rig("ca", host="127.0.0.1")
        daemon = rig.start_daemon()
        wait_for(lambda: "certificate may not name the host" in read_log(daemon), 30,
                 "the refusal in the log")
        wait_for(lambda: store_query(rig.data_dir, "SELECT count(*) FROM outbox")[0][0] >= 5, 30,
                 "readings kept in the outbox")
        self.assertNotIn("cloud: connected", read_log(daemon))


if __name__ == "__main__":
    unittest.main()
