"""The Debian package and the systemd unit, checked from the outside: cpack builds the
.deb from the build under test into a scratch directory, and dpkg-deb reads it back
(contents, conffiles, maintainer scripts, Depends). systemd-analyze scores the unit's
hardening offline. Skipped where cpack, dpkg-deb or systemd-analyze are missing."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

SOURCE_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
UNIT = os.path.join(SOURCE_DIR, "systemd/ecmgw.service")


def build_dir():
    if "ECMGW_BUILD_DIR" in os.environ:
        return os.environ["ECMGW_BUILD_DIR"]
    ecmgw = os.environ.get("ECMGW_BIN", os.path.join(SOURCE_DIR, "build/daemon/ecmgw"))
    return os.path.dirname(os.path.dirname(ecmgw))


def run(*args, **kwargs):
    return subprocess.run(args, capture_output=True, text=True, timeout=600, check=True, **kwargs)


EXPECTED_FILES = [
    "./usr/bin/ecmgw",
    "./usr/bin/ecmgw-sim",
    "./usr/lib/systemd/system/ecmgw.service",
    "./usr/lib/sysusers.d/ecmgw.conf",
    "./usr/lib/tmpfiles.d/ecmgw.conf",
    "./etc/ecmgw/ecmgw.toml",
    "./usr/share/ecmgw/profiles/eastron-sdm120.toml",
    "./usr/share/ecmgw/profiles/chint-dtsu666.toml",
    "./usr/share/doc/ecmgw/commissioning.md",
    "./usr/share/doc/ecmgw/install.md",
    "./usr/share/doc/ecmgw/config.md",
    "./usr/share/doc/ecmgw/ecmgw.example.toml",
]


@unittest.skipUnless(shutil.which("cpack") and shutil.which("dpkg-deb"), "needs cpack and dpkg-deb")
class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.mkdtemp(prefix="ecmgw-package-")
        build = build_dir()
        config = os.path.join(build, "CPackConfig.cmake")
        if not os.path.exists(config):
            raise unittest.SkipTest(f"no {config}: configure the build first")
        run("cpack", "-G", "DEB", "--config", config, "-B", cls.scratch, cwd=build)
        debs = [f for f in os.listdir(cls.scratch) if f.endswith(".deb")]
        assert len(debs) == 1, debs
        cls.deb = os.path.join(cls.scratch, debs[0])
        cls.root = os.path.join(cls.scratch, "root")
        cls.control = os.path.join(cls.scratch, "control")
        run("dpkg-deb", "-x", cls.deb, cls.root)
        run("dpkg-deb", "-e", cls.deb, cls.control)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.scratch, ignore_errors=True)

    def field(self, name):
        return run("dpkg-deb", "--field", self.deb, name).stdout.strip()

    def test_name_version_architecture(self):
        arch = run("dpkg", "--print-architecture").stdout.strip()
        self.assertEqual(self.field("Package"), "ecmgw")
        self.assertEqual(self.field("Architecture"), arch)
        self.assertTrue(os.path.basename(self.deb).startswith("ecmgw_"), self.deb)
        self.assertTrue(os.path.basename(self.deb).endswith(f"_{arch}.deb"), self.deb)

    def test_contents(self):
        listing = run("dpkg-deb", "--contents", self.deb).stdout
        paths = {line.split()[-1] for line in listing.splitlines() if line.strip()}
        for path in EXPECTED_FILES:
            self.assertIn(path, paths)
            self.assertTrue(os.path.isfile(os.path.join(self.root, path)), path)
        # Nothing of the build machine: no test binaries, no headers.
        self.assertFalse([p for p in paths if "/include/" in p or "test_" in p], paths)
        for binary in ("usr/bin/ecmgw", "usr/bin/ecmgw-sim"):
            self.assertTrue(os.access(os.path.join(self.root, binary), os.X_OK), binary)

    def test_shipped_files_are_the_sources(self):
        pairs = [("usr/lib/systemd/system/ecmgw.service", "systemd/ecmgw.service"),
                 ("usr/lib/sysusers.d/ecmgw.conf", "systemd/ecmgw.sysusers.conf"),
                 ("usr/lib/tmpfiles.d/ecmgw.conf", "systemd/ecmgw.tmpfiles.conf"),
                 ("etc/ecmgw/ecmgw.toml", "config/ecmgw.example.toml")]
        for packaged, source in pairs:
            with open(os.path.join(self.root, packaged)) as a, open(os.path.join(SOURCE_DIR, source)) as b:
                self.assertEqual(a.read(), b.read(), packaged)

    def test_the_binary_runs(self):
        out = subprocess.run([os.path.join(self.root, "usr/bin/ecmgw"), "version"],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"^ecmgw \d+\.\d+\.\d+")

    def test_conffiles(self):
        with open(os.path.join(self.control, "conffiles")) as f:
            self.assertEqual(f.read(), "/etc/ecmgw/ecmgw.toml\n")

    def test_depends_are_computed_from_the_binaries(self):
        depends = self.field("Depends")
        for library in ("libsqlite3-0", "libmodbus5", "libsystemd0", "libserialport0", "libstdc++6"):
            self.assertIn(library, depends)
        self.assertIn("systemd", depends)

    def test_maintainer_scripts(self):
        scripts = {}
        for name in ("postinst", "prerm", "postrm"):
            path = os.path.join(self.control, name)
            self.assertTrue(os.access(path, os.X_OK), name)
            with open(path) as f:
                scripts[name] = f.read()
            run("sh", "-n", path)
        self.assertIn("systemd-sysusers /usr/lib/sysusers.d/ecmgw.conf", scripts["postinst"])
        self.assertIn("systemd-tmpfiles --create /usr/lib/tmpfiles.d/ecmgw.conf", scripts["postinst"])
        # A fresh box starts polling only once a technician has written its config.
        for name, text in scripts.items():
            self.assertNotRegex(text, r"systemctl\s+(--now\s+)?(enable|start)\b", name)
        # Readings, ledger and outbox survive a remove; only purge deletes them.
        purge = re.search(r"purge\)(.*?);;", scripts["postrm"], re.S)
        self.assertIsNotNone(purge)
        self.assertIn("rm -rf /var/lib/ecmgw", purge.group(1))
        self.assertEqual(scripts["postrm"].count("/var/lib/ecmgw"), 2)  # the comment, the purge

    def test_the_user_is_in_dialout(self):
        with open(os.path.join(self.root, "usr/lib/sysusers.d/ecmgw.conf")) as f:
            lines = [l.split() for l in f if l.strip() and not l.startswith("#")]
        self.assertIn(["m", "ecmgw", "dialout"], lines)
        self.assertEqual(lines[0][:2], ["u", "ecmgw"])


def offline_security_supported():
    if not shutil.which("systemd-analyze"):
        return False
    out = subprocess.run(["systemd-analyze", "security", "--help"], capture_output=True, text=True)
    return "--offline" in out.stdout


@unittest.skipUnless(offline_security_supported(), "needs systemd-analyze security --offline (systemd 250+)")
class UnitHardening(unittest.TestCase):
    def test_exposure_is_at_most_2_5(self):
        out = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", UNIT],
                             capture_output=True, text=True, timeout=60)
        match = re.search(r"Overall exposure level for ecmgw\.service: (\d+\.\d+)", out.stdout)
        self.assertIsNotNone(match, out.stdout + out.stderr)
        self.assertLessEqual(float(match.group(1)), 2.5, out.stdout)

    def test_unit_runs_check_config_first_and_notifies(self):
        with open(UNIT) as f:
            text = f.read()
        for line in ("Type=notify", "WatchdogSec=30", "ExecReload=/usr/bin/ecmgw reload --pid $MAINPID",
                     "ExecStartPre=/usr/bin/ecmgw check-config /etc/ecmgw/ecmgw.toml",
                     "StateDirectory=ecmgw", "RuntimeDirectory=ecmgw", "SupplementaryGroups=dialout",
                     "DevicePolicy=closed", "DeviceAllow=char-ttyUSB rw"):
            self.assertIn(line + "\n", text)


if __name__ == "__main__":
    unittest.main()
