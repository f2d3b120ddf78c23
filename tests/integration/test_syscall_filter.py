"""The hardened unit's system call filter against the system calls the daemon really
makes. The daemon runs a short pipeline (simulated meters, a real mosquitto, the
control socket, a reload, SIGTERM) under strace; every system call it made must be
one the unit's SystemCallFilter= lines allow, as systemd-analyze's group listings
spell them out. A call outside the filter would make the daemon fail under systemd
(EPERM; before SystemCallErrorNumber=, SIGSYS and a restart loop).

As root, the daemon runs the way the unit starts it as far as its credentials go:
as an unprivileged user (User=; SQLite, for one, calls fchown only as root) in a
mount namespace whose /etc/group has a group `ecmgw`, with that group as its own
(Group=ecmgw), so the control socket's group handling takes the unit's path."""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import unittest

from harness import ECMGW, Rig, read_log, wait_for

SOURCE_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
UNIT = os.path.join(SOURCE_DIR, "systemd/ecmgw.service")
EMULATED_GID = 64999  # the group ecmgw of the mount namespace, unused elsewhere


def syscall_groups():
    """{"@group": [members, "@subgroup", …]} from `systemd-analyze syscall-filter`."""
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    groups, current = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            current = groups.setdefault(line.strip(), [])
        elif line.startswith("    ") and current is not None and not line.strip().startswith("#"):
            current.append(line.strip())
        elif not line.strip():
            current = None
    return groups


def expand(names, groups, seen=None):
    """The system calls `names` stand for, groups expanded recursively."""
    seen = set() if seen is None else seen
    out = set()
    for name in names:
        if not name.startswith("@"):
            out.add(name)
        elif name not in seen:
            seen.add(name)
            if name not in groups:
                raise AssertionError(f"systemd-analyze knows no group {name}")
            out |= expand(groups[name], groups, seen)
    return out


def unit_filter_lines(path):
    with open(path) as f:
        return [line.split("=", 1)[1].split() for line in f
                if line.startswith("SystemCallFilter=")]


def allowed_syscalls(path):
    """The system calls the unit lets through, by systemd's rules: the first
    SystemCallFilter= without '~' makes an allow list, to which systemd adds @default;
    later lines add to it, or with '~' take away from it."""
    groups = syscall_groups()
    lines = unit_filter_lines(path)
    if not lines:
        raise AssertionError(f"{path} has no SystemCallFilter=")
    if lines[0][0].startswith("~"):
        raise AssertionError("the unit's filter is a deny list; this test reads allow lists")
    allowed = expand(["@default"], groups)
    for words in lines:
        inverted = words[0].startswith("~")
        names = [words[0].lstrip("~"), *words[1:]]
        if inverted:
            allowed -= expand(names, groups)
        else:
            allowed |= expand(names, groups)
    return allowed


SYSCALL_LINE = re.compile(r"^\d+\s+([a-z_][a-z0-9_]*)\(")


def traced_syscalls(trace_path):
    """The names of the system calls in an `strace -f` output file."""
    names = set()
    with open(trace_path, errors="replace") as f:
        for line in f:
            m = SYSCALL_LINE.match(line)
            if m:
                names.add(m.group(1))
    return names


def can_emulate_the_units_group():
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("setpriv"):
        return False
    out = subprocess.run(["unshare", "-m", "true"], capture_output=True, timeout=30)
    return out.returncode == 0


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


CONTROL = """
[control]
socket = "control.sock"
"""


@unittest.skipUnless(shutil.which("strace") and shutil.which("systemd-analyze"),
                     "needs strace and systemd-analyze")
class SystemCallFilter(unittest.TestCase):
    def setUp(self):
        self.rig = Rig(meters=2, interval_s=1, extra_config=CONTROL)
        self.addCleanup(self.rig.close)
        self.trace = os.path.join(self.rig.workdir, "strace.out")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(self.notify.close)
        notify_path = os.path.join(self.rig.workdir, "notify.sock")
        self.notify.bind(notify_path)
        self.daemon_pid = None
        self.addCleanup(self.kill_daemon)
        # sd_notify's READY=1, STATUS= and WATCHDOG=1 go out as under the unit.
        traced = ["env", f"NOTIFY_SOCKET={notify_path}", "WATCHDOG_USEC=2000000",
                  "strace", "-f", "-qq", "-e", "trace=all", "-o", self.trace]
        self.emulated = can_emulate_the_units_group()
        if self.emulated:
            group_file = os.path.join(self.rig.workdir, "group")
            with open("/etc/group") as src, open(group_file, "w") as dst:
                dst.write(src.read() + f"ecmgw:x:{EMULATED_GID}:\n")
            # The unit's user owns its state and runtime directories and may open the
            # serial port (dialout): here the rig's directory and the pty.
            user = pwd.getpwnam("nobody").pw_uid
            for root, dirs, files in os.walk(self.rig.workdir):
                for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                    os.lchown(name, user, EMULATED_GID)
            os.chown(os.path.realpath(self.rig.line.master_end), user, EMULATED_GID)
            self.wrapper = ["unshare", "-m", "sh", "-c",
                            'mount --bind "$0" /etc/group && exec setpriv --reuid nobody '
                            '--regid ecmgw --clear-groups "$@"', group_file, *traced]
        else:
            self.wrapper = traced

    def kill_daemon(self):
        if self.daemon_pid is not None:
            try:
                os.kill(self.daemon_pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def ecmgw(self, *args):
        return subprocess.run([ECMGW, *args, "--socket", os.path.join(self.rig.workdir, "control.sock")],
                              capture_output=True, text=True, timeout=120)

    def test_every_system_call_of_a_pipeline_run_passes_the_units_filter(self):
        allowed = allowed_syscalls(UNIT)
        tracer = self.rig.start_daemon(wrapper=self.wrapper)
        self.daemon_pid = wait_for(lambda: (children_of(tracer.pid) or [None])[0], 30,
                                   "strace to start the daemon")
        sock = os.path.join(self.rig.workdir, "control.sock")
        wait_for(lambda: os.path.exists(sock), 60, "the control socket")
        if self.emulated:
            self.assertEqual(os.stat(sock).st_gid, EMULATED_GID)
        # Readings reach the broker: bus, store, outbox and uplink all turned.
        wait_for(lambda: len({r["meter"] for r in self.rig.feed.readings()}) >= 2, 90,
                 "readings of both meters at the broker")
        status = self.ecmgw("status", "--json")
        self.assertEqual(status.returncode, 0, status.stdout + status.stderr)
        read = self.ecmgw("read", "E-0001")
        self.assertEqual(read.returncode, 0, read.stdout + read.stderr)
        # A reload (systemctl reload) and the watchdog's pings.
        os.kill(self.daemon_pid, signal.SIGHUP)
        wait_for(lambda: "reload: reading" in read_log(tracer), 60, "the reload")
        self.notify.settimeout(30)
        seen = b""
        while b"WATCHDOG=1" not in seen:
            seen += self.notify.recv(4096) + b"\n"
        os.kill(self.daemon_pid, signal.SIGTERM)
        tracer.wait(timeout=60)
        self.assertIn("stopped: ", read_log(tracer))
        self.daemon_pid = None
        made = traced_syscalls(self.trace)
        self.assertIn("sendmsg", made)  # sanity: the trace has the daemon's calls
        self.assertIn("bind", made)
        refused = sorted(made - allowed)
        self.assertEqual(refused, [], f"system calls the unit's filter refuses: {refused}")

    def test_the_filter_is_read_from_the_unit(self):
        # The reading of the unit's lines can fail: chown is taken away by ~@privileged.
        allowed = allowed_syscalls(UNIT)
        self.assertIn("read", allowed)
        self.assertIn("sendmsg", allowed)
        self.assertNotIn("chown", allowed)
        self.assertNotIn("fchownat", allowed)
        self.assertNotIn("setrlimit", allowed)  # @resources
        with tempfile.NamedTemporaryFile("w", suffix=".service") as f:
            f.write("[Service]\nSystemCallFilter=@system-service\n")
            f.flush()
            self.assertIn("chown", allowed_syscalls(f.name))


if __name__ == "__main__":
    unittest.main()
