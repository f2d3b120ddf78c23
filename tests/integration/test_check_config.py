"""`ecmgw check-config` and `ecmgw import-meters`: a catalogue of broken and suspicious
files with the exact messages a technician reads, and the exit codes systemd's
ExecStartPre= relies on (0 valid, warnings or not; 1 errors, or warnings with --strict)."""

import os
import shutil
import subprocess
import tempfile
import textwrap
import unittest

from harness import ECMGW

PROFILES_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             "../../config/profiles"))

HEAD = textwrap.dedent(f"""\
    [gateway]
    id = "gw-1"
    data_dir = "/var/lib/ecmgw"
    profiles_dir = "{PROFILES_DIR}"
    """)

CLEAN = HEAD + textwrap.dedent("""
    [[bus]]
    name = "floor1"
    device = "/dev/ttyUSB0"

    [[meter]]
    id = "E-0101"
    bus = "floor1"
    protocol = "dlt645-2007"
    address = "000000000101"
    relay = true
    """)

SUSPICIOUS = HEAD + textwrap.dedent("""
    [cloud]
    uri = "tcp://broker.example.com:1883"
    command_key_file = "/nonexistent/ecmgw/command.key"

    [[bus]]
    name = "floor1"
    device = "/dev/ttyUSB7"
    baud = 1200
    parity = "N"
    timeout_ms = 300

    [[bus]]
    name = "annex"
    device = "/dev/ttyUSB9"
    baud = 300
    gap_ms = 0

    [[meter]]
    id = "E-0101"
    bus = "floor1"
    protocol = "dlt645-2007"
    address = "000000000101"
    account = "A-101"
    relay = true

    [[meter]]
    id = "E-0102"
    bus = "floor1"
    protocol = "dlt645-2007"
    address = "000000000102"
    account = "A-101"

    [[meter]]
    id = "W-0201"
    bus = "floor1"
    protocol = "cjt188"
    address = "00000000000201"
    baud = 9600
    parity = "E"
    timeout_ms = 50

    [[meter]]
    id = "M-1"
    bus = "annex"
    protocol = "modbus"
    unit = 1
    profile = "eastron-sdm120"

    [[tariff]]
    id = "res-flat"
    utility = "electricity"
    price = "0.5283"

    [[account]]
    id = "A-101"
    tariff = "res-flat"

    [[account]]
    id = "A-102"
    """)

SUSPICIOUS_WARNINGS = [
    's.toml:7:7: warning: cloud.uri: "tcp://broker.example.com:1883" is not encrypted: readings, '
    "balances and the broker's password cross the network in clear; expected ssl:// or mqtts:// "
    "for a broker beyond this box",
    's.toml:8:20: warning: cloud.command_key_file: "/nonexistent/ecmgw/command.key" cannot be read '
    "(No such file or directory): the daemon will refuse to start; install the key file, readable "
    "by the ecmgw user",
    's.toml:14:10: warning: bus[1].parity: parity "N" is unusual for dlt645-2007 meters: the '
    "standard's line is 8E1 (even parity); a meter on the wrong parity drops every frame "
    "(2 meters: E-0101, E-0102)",
    "s.toml:15:14: warning: bus[1].timeout_ms: timeout_ms = 300 is shorter than a dlt645-2007 "
    "exchange can take at 1200 baud 8N1: 20 bytes out and up to 40 back take 500 ms on the wire, "
    "plus 20 ms for the meter to turn round, 520 ms in all; healthy meters would look dead; "
    "expected timeout_ms >= 800 (2 meters: E-0101, E-0102)",
    "s.toml:17:1: warning: bus[2].timeout_ms: timeout_ms = 600 is shorter than a modbus exchange "
    "can take at 300 baud 8E1: 8 bytes out and up to 69 back take 2824 ms on the wire, plus 129 ms "
    "for the meter to turn round, 2952 ms in all; healthy meters would look dead; expected "
    "timeout_ms >= 4450 (meter M-1)",
    "s.toml:20:8: warning: bus[2].baud: 300 baud is unusual for modbus meters (they are sold set "
    "to 2400, 4800, 9600, 19200, 38400, 57600, 115200); check the meters' nameplate or settings "
    "(meter M-1)",
    's.toml:20:8: warning: bus[2].baud: profile eastron-sdm120 (Eastron SDM120-Modbus) leaves the '
    'factory at 2400 baud parity "N", this line is 300 baud 8E1: unless the meters were set to it, '
    "they will not answer (meter M-1)",
    "s.toml:21:10: warning: bus[2].gap_ms: gap_ms = 0 is shorter than Modbus RTU's 3.5-character "
    "silence at 300 baud 8E1 (129 ms): the next request runs into the last answer; expected "
    "gap_ms >= 129",
    "s.toml:31:1: warning: meter[2].relay: meter E-0102 is charged to account A-101 but has relay "
    "= false: when the credit runs out the gateway cannot cut its supply; expected relay = true "
    "(or keep_power = true on the account)",
    "s.toml:43:8: warning: meter[3].baud: 9600 baud is unusual for cjt188 meters (they are sold "
    "set to 2400); check the meters' nameplate or settings (meter W-0201)",
    "s.toml:45:14: warning: meter[3].timeout_ms: timeout_ms = 50 is shorter than a cjt188 "
    "exchange can take at 9600 baud 8E1: 18 bytes out and up to 37 back take 64 ms on the wire, "
    "plus 20 ms for the meter to turn round, 84 ms in all; healthy meters would look dead; "
    "expected timeout_ms >= 150 (meter W-0201)",
    "s.toml:63:1: warning: account[2].tariff: account A-102 has no tariff and no meter is charged "
    'to it; meters the cloud adds to it cannot be rated; expected tariff = "…" (one per utility)',
]

BROKEN = HEAD + textwrap.dedent("""
    [[bus]]
    name = "floor1"
    device = "/dev/ttyUSB0"

    [[bus]]
    name = "floor2"
    device = "/dev/ttyUSB0"

    [[meter]]
    id = "E-0101"
    bus = "floor1"
    protocol = "dlt645-2007"
    address = "000000000101"
    relay = true

    [[meter]]
    id = "E-0102"
    bus = "floor1"
    protocol = "dlt645-2007"
    address = "000000000101"
    relay = true

    [[meter]]
    id = "W-0101"
    bus = "floor1"
    protocol = "cjt188"
    address = "00000000000101"
    account = "A-1"

    [[tariff]]
    id = "res-flat"
    utility = "electricity"
    price = "0.5283"

    [[account]]
    id = "A-1"
    tariff = "res-flat"
    """)

BROKEN_ERRORS = [
    'b.toml:12:10: bus[2].device: device "/dev/ttyUSB0" is already used by bus[1] (line 8); two '
    "buses on one port would garble each other's frames",
    "b.toml:25:11: meter[2].address: address 000000000101 is already used by meter[1] (line 18) on "
    'bus "floor1"; two meters with one address on a bus answer at once and garble each other',
    "b.toml:33:11: meter[3].account: account A-1 has no water tariff for water meter W-0101; add "
    "one to the account's tariff list or set tariff on the meter",
    "b.toml: 3 error(s)",
]


class Workdir(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="ecmgw-check-")
        self.addCleanup(shutil.rmtree, self.workdir, ignore_errors=True)

    def write(self, name, text):
        with open(os.path.join(self.workdir, name), "w") as f:
            f.write(text)
        return name

    def ecmgw(self, *args):
        return subprocess.run([ECMGW, *args], capture_output=True, text=True, timeout=60,
                              cwd=self.workdir)


class CheckConfig(Workdir):
    def test_clean_file(self):
        out = self.ecmgw("check-config", self.write("c.toml", CLEAN))
        self.assertEqual((out.returncode, out.stdout, out.stderr),
                         (0, "c.toml: ok (1 bus(es), 1 meter(s))\n", ""))

    def test_warnings_are_printed_and_not_fatal(self):
        out = self.ecmgw("check-config", self.write("s.toml", SUSPICIOUS))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stderr.splitlines(), SUSPICIOUS_WARNINGS)
        self.assertEqual(out.stdout, "s.toml: ok (2 bus(es), 4 meter(s)), 12 warning(s)\n")

    def test_strict_makes_warnings_fatal(self):
        out = self.ecmgw("check-config", "--strict", self.write("s.toml", SUSPICIOUS))
        self.assertEqual(out.returncode, 1)
        self.assertEqual(out.stderr.splitlines()[-1],
                         "s.toml: ok (2 bus(es), 4 meter(s)), 12 warning(s); --strict: warnings "
                         "count as errors")
        self.assertEqual(out.stdout, "")
        clean = self.ecmgw("check-config", "--strict", self.write("c.toml", CLEAN))
        self.assertEqual(clean.returncode, 0, clean.stderr)

    def test_errors(self):
        out = self.ecmgw("check-config", self.write("b.toml", BROKEN))
        self.assertEqual(out.returncode, 1)
        self.assertEqual(out.stderr.splitlines(), BROKEN_ERRORS)
        self.assertEqual(out.stdout, "")

    def test_one_port_under_two_names(self):
        port = os.path.join(self.workdir, "ttyUSB0")
        self.write("ttyUSB0", "")
        os.symlink(port, os.path.join(self.workdir, "by-id-adapter"))
        text = HEAD + textwrap.dedent(f"""
            [[bus]]
            name = "floor1"
            device = "{port}"

            [[bus]]
            name = "floor2"
            device = "{self.workdir}/by-id-adapter"
            """)
        out = self.ecmgw("check-config", self.write("d.toml", text))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stderr,
                         f'd.toml:12:10: warning: bus[2].device: "{self.workdir}/by-id-adapter" '
                         f"is the same port as bus floor1's ({port}); two buses on one port "
                         "garble each other's frames\n")

    def test_data_dir_outside_the_state_directory(self):
        out = self.ecmgw("check-config",
                         self.write("g.toml", CLEAN.replace('"/var/lib/ecmgw"', '"/srv/ecmgw"')))
        self.assertEqual(out.returncode, 0)
        self.assertEqual(out.stderr,
                         'g.toml:3:12: warning: gateway.data_dir: "/srv/ecmgw" is outside '
                         "/var/lib/ecmgw: under the systemd unit (ProtectSystem=strict) the daemon "
                         "can write only there, so the store would not open; expected "
                         '"/var/lib/ecmgw" on a box\n')

    def test_missing_file(self):
        out = self.ecmgw("check-config", "nowhere.toml")
        self.assertEqual(out.returncode, 1)
        self.assertEqual(out.stderr,
                         "nowhere.toml: cannot open: No such file or directory\n"
                         "nowhere.toml: 1 error(s)\n")


GOOD_CSV = """\
id,bus,protocol,address,kind,interval_s,account,relay,note
E-0201,floor1,dlt645-2007,000000000201,electricity,60,A-201,yes,room 201
E-0202,floor1,dlt645-2007,202,,60,A-201,yes,room 202
W-0201,floor1,cjt188,00000000000201,water,300,,no,room 201 water
"""


class ImportMeters(Workdir):
    def config(self):
        return self.write("gw.toml", CLEAN + textwrap.dedent("""
            [[tariff]]
            id = "res-flat"
            utility = "electricity"
            price = "0.5283"

            [[account]]
            id = "A-201"
            tariff = "res-flat"
            """))

    def test_good_rows_against_the_config(self):
        out = self.ecmgw("import-meters", self.write("m.csv", GOOD_CSV), "--config", self.config())
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stderr,
                         "m.csv:3: address 202 padded to 12 digits (the spreadsheet dropped its "
                         "leading zeros)\n")
        self.assertEqual(out.stdout, textwrap.dedent("""\
            # 3 meter(s) from m.csv (ecmgw import-meters), checked against gw.toml.
            # Append to the gateway's config, then check it: ecmgw check-config /etc/ecmgw/ecmgw.toml

            [[meter]]  # m.csv line 2: room 201
            id = "E-0201"
            bus = "floor1"
            protocol = "dlt645-2007"
            address = "000000000201"
            kind = "electricity"
            interval_s = 60
            account = "A-201"
            relay = true

            [[meter]]  # m.csv line 3: room 202
            id = "E-0202"
            bus = "floor1"
            protocol = "dlt645-2007"
            address = "000000000202"
            interval_s = 60
            account = "A-201"
            relay = true

            [[meter]]  # m.csv line 4: room 201 water
            id = "W-0201"
            bus = "floor1"
            protocol = "cjt188"
            address = "00000000000201"
            kind = "water"
            interval_s = 300
            relay = false
            """))
        # Appended, the result is a config the daemon takes.
        with open(os.path.join(self.workdir, "gw.toml"), "a") as f:
            f.write(out.stdout)
        check = self.ecmgw("check-config", "gw.toml")
        self.assertEqual(check.returncode, 0, check.stderr)
        self.assertIn("gw.toml: ok (1 bus(es), 4 meter(s))", check.stdout)

    def test_output_file(self):
        out = self.ecmgw("import-meters", self.write("m.csv", GOOD_CSV), "--config", self.config(),
                         "--output", "meters.toml")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, "")
        self.assertTrue(out.stderr.endswith("meters.toml: 3 meter(s) written\n"), out.stderr)
        with open(os.path.join(self.workdir, "meters.toml")) as f:
            self.assertEqual(f.read().count("[[meter]]"), 3)

    def test_rows_the_config_refuses_are_reported_at_their_csv_line(self):
        csv = ("id,bus,protocol,address,account\n"
               "E-0101,floor1,dlt645-2007,000000000301,\n"
               "E-0302,floor9,dlt645-2007,000000000302,\n"
               "E-0303,floor1,dlt645-2007,000000000101,\n"
               "E-0304,floor1,dlt645-2007,000000000304,A-999\n"
               "E-0302,floor1,dlt645-2007,000000000305,\n")
        out = self.ecmgw("import-meters", self.write("m.csv", csv), "--config", self.config(),
                         "--output", "meters.toml")
        self.assertEqual(out.returncode, 1)
        self.assertEqual(out.stderr.splitlines(), [
            'm.csv:2: id: duplicate meter id "E-0101": meter[1] (gw.toml line 11) already has it; every '
            "meter needs its own id",
            'm.csv:3: bus: no [[bus]] is named "floor9"; known buses: "floor1"',
            "m.csv:4: address: address 000000000101 is already used by meter[1] (gw.toml line 14) on bus "
            '"floor1"; two meters with one address on a bus answer at once and garble each other',
            'm.csv:5: account: no [[account]] has id "A-999"; known: "A-201"',
            'm.csv:6: id: duplicate meter id "E-0302": meter[3] (m.csv line 3) already has it; '
            "every meter needs its own id",
            "m.csv: 5 error(s); nothing written",
        ])
        self.assertFalse(os.path.exists(os.path.join(self.workdir, "meters.toml")))

    def test_bad_rows_without_a_config(self):
        csv = ("id;bus;protocol;address;relay\n"
               "E-1;floor1;dlt645-2007;2.02012E+11;yes\n"
               "E-2;floor1;dlt645-2099;000000000002;maybe\n")
        out = self.ecmgw("import-meters", self.write("m.csv", csv))
        self.assertEqual(out.returncode, 1)
        self.assertEqual(out.stderr.splitlines(), [
            'm.csv:2: address: found "2.02012E+11": the spreadsheet wrote the address as a number '
            "in scientific notation and lost its digits; format the column as text and export again",
            'm.csv:3: relay: found "maybe", expected yes or no (true/false, 1/0)',
            "m.csv: 2 problem(s); nothing written",
        ])

    def test_without_a_config_the_validator_still_checks_each_entry(self):
        csv = "id,bus,protocol,address\nE-1,floor1,dlt645-2099,000000000002\n"
        out = self.ecmgw("import-meters", self.write("m.csv", csv))
        self.assertEqual(out.returncode, 1)
        self.assertEqual(out.stderr.splitlines(), [
            'm.csv:2: protocol: found "dlt645-2099" (did you mean \'dlt645-2007\'?), expected one of '
            'the supported protocols: "dlt645-2007", "dlt645-1997", "cjt188", "modbus"',
            "m.csv: 1 error(s); nothing written",
        ])


if __name__ == "__main__":
    unittest.main()
