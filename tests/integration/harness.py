"""Real processes for integration tests: socat pty pairs, mosquitto on a free
port, ecmgw-sim and ecmgw. Every wait polls a condition with a generous
deadline; nothing sleeps in the hope that something has happened."""

import datetime
import decimal
import hashlib
import hmac
import itertools
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time

import paho.mqtt.client as mqtt

BUILD_DIR = os.environ.get("ECMGW_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
ECMGW = os.environ.get("ECMGW_BIN", os.path.join(BUILD_DIR, "daemon/ecmgw"))
ECMGW_SIM = os.environ.get("ECMGW_SIM_BIN", os.path.join(BUILD_DIR, "tools/ecmgw-sim"))
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def wait_for(condition, timeout=30.0, what="condition", interval=0.05):
    """Polls `condition` until it returns a truthy value; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class Processes:
    """Starts processes and makes sure none outlives the test."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []

    def start(self, name, args, **kwargs):
        log_path = os.path.join(self.workdir, f"{name}.log")
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kwargs)
        proc.log_path = log_path
        self.procs.append(proc)
        return proc

    def stop_all(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def read_log(proc):
    with open(proc.log_path, "rb") as f:
        return f.read().decode(errors="replace")


class PtyPair:
    """A virtual RS-485 line: two pseudo-terminals joined by socat."""

    def __init__(self, procs, workdir, name):
        self.master_end = os.path.join(workdir, f"{name}-gw")
        self.meter_end = os.path.join(workdir, f"{name}-meters")
        self.proc = procs.start(f"socat-{name}", [
            "socat", f"pty,raw,echo=0,link={self.master_end}", f"pty,raw,echo=0,link={self.meter_end}"])
        wait_for(lambda: os.path.exists(self.master_end) and os.path.exists(self.meter_end),
                 10, f"socat pty pair {name}")


class Broker:
    """A real mosquitto on a free loopback port, persistent across restarts.

    `daemon_listener`: configuration lines (password_file, cafile, certfile, …) of a
    second listener, on `daemon_port`, for the daemon alone; the tests' own clients keep
    the first, anonymous one (per_listener_settings). `extra`: more global lines."""

    def __init__(self, procs, workdir, daemon_listener=None, extra=""):
        self.procs = procs
        self.port = free_port()
        self.daemon_port = self.port if daemon_listener is None else free_port()
        self.conf = os.path.join(workdir, "mosquitto.conf")
        with open(self.conf, "w") as f:
            if daemon_listener is not None:
                f.write("per_listener_settings true\n")
            if os.geteuid() == 0:
                # Started as root, mosquitto would drop to its own user, which cannot
                # write its persistence file into this private directory.
                f.write("user root\n")
            f.write(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                    f"persistence true\npersistence_location {workdir}/\n"
                    f"max_queued_messages 1000000\nmax_inflight_messages 100\n{extra}\n")
            if daemon_listener is not None:
                f.write(f"listener {self.daemon_port}\n{daemon_listener}\n")
        self.proc = None
        self.start()

    def start(self):
        self.proc = self.procs.start("mosquitto", [MOSQUITTO, "-c", self.conf])
        wait_for(lambda: port_open(self.port) and port_open(self.daemon_port), 10,
                 "mosquitto to listen")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)
        wait_for(lambda: not port_open(self.port), 10, "mosquitto to stop listening")

    @property
    def uri(self):
        return f"tcp://127.0.0.1:{self.port}"


class Feed:
    """Collects every message under a topic filter, on a persistent session so
    that nothing published while the collector reconnects is missed."""

    def __init__(self, broker, topic_filter):
        self.messages = []
        self.status = []
        self.unparsed = []
        self.lock = threading.Lock()
        self.connected = threading.Event()
        self.client = mqtt.Client(client_id=f"test-feed-{os.getpid()}-{broker.port}", clean_session=False)
        self.topic_filter = topic_filter
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.reconnect_delay_set(0.1, 1)
        self.client.connect("127.0.0.1", broker.port, keepalive=10)
        self.client.loop_start()
        wait_for(self.connected.is_set, 10, "the test's MQTT subscriber to connect")

    def _on_connect(self, client, userdata, flags, rc):
        if rc == 0:
            client.subscribe(self.topic_filter, qos=1)
            self.connected.set()

    def _on_message(self, client, userdata, msg):
        # An exception here would end paho's network loop: a payload that is not JSON
        # (a test's malformed command, which the filter may also catch) is only counted.
        try:
            body = json.loads(msg.payload, parse_float=decimal.Decimal)
        except ValueError:
            with self.lock:
                self.unparsed.append(msg.topic)
            return
        with self.lock:
            # The retained status is no outbox record: kept apart, so that `messages`
            # holds the records' messages only, as before the status topic existed.
            if msg.topic.endswith("/status"):
                self.status.append(body)
            else:
                self.messages.append((msg.topic, body))

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def readings(self):
        """Every reading received, in arrival order (duplicates kept)."""
        return self.records("readings")

    def records(self, suffix):
        """Every record received on <prefix>/<gateway>/<suffix> (readings, ledger,
        events, summaries, acks), in arrival order (duplicates kept)."""
        out = []
        for topic, m in self.snapshot():
            if topic.endswith("/" + suffix):
                out.extend(m[suffix])
        return out

    def events(self, name=None):
        return [e for e in self.records("events") if name is None or e["event"] == name]

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def unique_seqs(readings):
    """The reading seqs in order of first arrival (the cloud's dedup by seq)."""
    seen, order = set(), []
    for r in readings:
        if r["seq"] not in seen:
            seen.add(r["seq"])
            order.append(r["seq"])
    return order


# store::Store::kSchemaVersion: a store below it is still being migrated.
SCHEMA_VERSION = 4

PROFILES_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../config/profiles"))


def write_config(path, gateway_id, data_dir, broker_uri, buses, meters, extra="", profiles_dir=None,
                 cloud=None):
    """`cloud`: more keys of the [cloud] table (this writes the table, so a second
    [cloud] in `extra` would be an error)."""
    lines = ["[gateway]", f'id = "{gateway_id}"', f'data_dir = "{data_dir}"', 'timezone = "UTC"']
    if profiles_dir:
        lines.append(f"profiles_dir = {json.dumps(profiles_dir)}")
    lines += ["", "[cloud]", f"uri = {json.dumps(broker_uri)}"]
    cloud = {"batch_max_delay_ms": 200, **(cloud or {})}
    lines += [f"{k} = {json.dumps(v)}" for k, v in cloud.items()]
    lines += [""]
    for b in buses:
        lines += ["[[bus]]"] + [f"{k} = {json.dumps(v)}" for k, v in b.items()] + [""]
    for m in meters:
        lines += ["[[meter]]"] + [f"{k} = {json.dumps(v)}" for k, v in m.items()] + [""]
    if "[control]" not in extra:
        # Each test daemon its own control socket, beside its config: the default
        # (/run/ecmgw/control.sock) would be shared by every daemon on the machine.
        control = os.path.join(os.path.dirname(os.path.abspath(path)), "control.sock")
        lines += ["[control]", f"socket = {json.dumps(control)}", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines) + extra)


def store_query(data_dir, sql):
    db = sqlite3.connect(f"file:{data_dir}/ecmgw.db?mode=ro", uri=True, timeout=10)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def rfc3339_now(offset_s=0.0):
    """The current UTC time (plus `offset_s`) as RFC 3339 with milliseconds."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


_command_ids = itertools.count(1)


def command_body(type_, id=None, issued_at=None, **fields):
    """A command body as a dict: a fresh unique id and issued_at = now unless given."""
    body = {"id": id or f"c-{os.getpid()}-{next(_command_ids)}",
            "issued_at": issued_at or rfc3339_now(), "type": type_}
    body.update(fields)
    return body


def sign_command(key, body):
    """The payload the cloud sends: {"body": <the body as JSON text>, "hmac": <hex
    HMAC-SHA256(key, body bytes)>}. `body` is a dict (serialised here) or the text itself."""
    text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
    mac = hmac.new(key.encode(), text.encode(), hashlib.sha256).hexdigest()
    return json.dumps({"body": text, "hmac": mac}).encode()


class CommandSender:
    """One MQTT connection that publishes commands at QoS 1 and waits for each PUBACK."""

    def __init__(self, broker, topic):
        self.topic = topic
        self.connected = threading.Event()
        self.lock = threading.Lock()
        self.client = mqtt.Client(client_id=f"test-cloud-{os.getpid()}-{broker.port}", clean_session=True)
        self.client.on_connect = lambda c, u, f, rc: rc == 0 and self.connected.set()
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.client.reconnect_delay_set(0.1, 1)
        self.client.connect("127.0.0.1", broker.port, keepalive=10)
        self.client.loop_start()
        wait_for(self.connected.is_set, 10, "the test's command publisher to connect")

    def publish(self, payload, timeout=10.0):
        with self.lock:
            info = self.client.publish(self.topic, payload, qos=1)
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise AssertionError(f"no PUBACK for a command within {timeout:.0f} s")

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def publish_command(rig, body=None, key=None, raw=None):
    """Publishes a command to the rig's gateway at QoS 1: `body` (a dict or text) signed
    with `key` (default: the rig's command key), or the `raw` payload bytes as they are.
    Returns the body's id when there is one."""
    if raw is None:
        raw = sign_command(key if key is not None else rig.command_key, body)
    rig.command_sender().publish(raw)
    return body.get("id") if isinstance(body, dict) else None


def answer_meter(answer, meter_ids):
    """The meter id of one answer-log line: the simulator names it ("meter") since it
    serves every protocol; older lines carry only the DL/T 645 address (or a Modbus
    "unit"), which `meter_ids` maps."""
    key = str(answer["address"] if "address" in answer else answer.get("unit"))
    return meter_ids.get(key) or answer.get("meter") or key


class Rig:
    """A bus of simulated meters, a broker and a daemon, set up for one test.

    By default the bus has `meters` DL/T 645-2007 meters at addresses 1.., simulated
    from the command line. With `meter_configs` (a list of [[meter]] tables without
    `bus`, any protocol), the bus has exactly those and the simulator reads the same
    config file as the daemon (--config --bus), so both see one source of truth."""

    def __init__(self, meters=3, sim_args=(), interval_s=1, bus_extra=None, meter_configs=None,
                 extra_config="", command_key=None, cloud=None, broker_listener=None,
                 broker_extra="", uri=None, more_buses=None):
        """`command_key`: the daemon takes commands signed with it (a key file in the
        workdir, named by [cloud] command_key_file); `cloud`: more [cloud] keys.
        `broker_listener`, `broker_extra`: see Broker; `uri(broker)`: the daemon's
        [cloud] uri (a string or a list), default the broker's plain URI.
        `more_buses`: {bus name: [[meter]] tables without `bus`}, buses beside floor1
        with floor1's line settings, each on a pty pair of its own and served by an
        ecmgw-sim of its own that reads the config file (--config --bus); their
        simulators are `self.sims[name]`, their lines `self.lines[name]`."""
        self.workdir = tempfile.mkdtemp(prefix="ecmgw-it-")
        self.command_key = command_key
        self._command_sender = None
        cloud = dict(cloud or {})
        if command_key is not None:
            key_file = os.path.join(self.workdir, "command.key")
            with open(key_file, "w") as f:
                f.write(command_key + "\n")
            cloud["command_key_file"] = key_file
        self.procs = Processes(self.workdir)
        self.data_dir = os.path.join(self.workdir, "data")
        self.answer_log = os.path.join(self.workdir, "answers.jsonl")
        self.line = PtyPair(self.procs, self.workdir, "floor1")
        self.broker = Broker(self.procs, self.workdir, broker_listener, broker_extra)
        self.config = os.path.join(self.workdir, "ecmgw.toml")
        bus = {"name": "floor1", "device": self.line.master_end, "baud": 2400, "parity": "E",
               "timeout_ms": 300, "inter_byte_timeout_ms": 100, "gap_ms": 5}
        bus.update(bus_extra or {})
        if meter_configs is None:
            self.addresses = [f"{i:012d}" for i in range(1, meters + 1)]
            self.meter_ids = {a: f"E-{i:04d}" for i, a in enumerate(self.addresses, start=1)}
            meter_configs = [{"id": mid, "protocol": "dlt645-2007", "address": a,
                              "kind": "electricity", "interval_s": interval_s}
                             for a, mid in self.meter_ids.items()]
            sim_meters = ["--meters", str(meters)]
        else:
            meter_configs = [{"interval_s": interval_s, **m} for m in meter_configs]
            # address (or Modbus unit) -> meter id, as the answer log names meters
            self.meter_ids = {str(m.get("address", m.get("unit"))): m["id"] for m in meter_configs}
            self.addresses = list(self.meter_ids)
            sim_meters = ["--config", self.config, "--bus", "floor1"]
        buses = [bus]
        meters = [{"id": m["id"], "bus": "floor1", **{k: v for k, v in m.items() if k != "id"}}
                  for m in meter_configs]
        self.lines = {"floor1": self.line}
        for name, tables in (more_buses or {}).items():
            self.lines[name] = PtyPair(self.procs, self.workdir, name)
            buses.append({**bus, "name": name, "device": self.lines[name].master_end})
            meters += [{"id": m["id"], "bus": name, "interval_s": interval_s,
                        **{k: v for k, v in m.items() if k != "id"}} for m in tables]
        write_config(self.config, "gw-test", self.data_dir,
                     uri(self.broker) if uri else self.broker.uri, buses, meters,
                     extra=extra_config, profiles_dir=PROFILES_DIR, cloud=cloud)
        self.sim = self._start_sim("sim", self.line, [*sim_meters, "--answer-log", self.answer_log,
                                                      *sim_args])
        self.sims = {"floor1": self.sim}
        for name in more_buses or {}:
            self.sims[name] = self._start_sim(f"sim-{name}", self.lines[name], [
                "--config", self.config, "--bus", name,
                "--answer-log", os.path.join(self.workdir, f"answers-{name}.jsonl")])
        self.feed = Feed(self.broker, "ecm/v1/gw-test/#")
        self.daemon = None

    def _start_sim(self, name, line, args):
        sim = self.procs.start(name, [ECMGW_SIM, "--device", line.meter_end,
                                      "--answer-delay-ms", "5", *args])
        wait_for(lambda: "serving" in read_log(sim) or sim.poll() is not None, 10,
                 f"{name} to serve")
        if sim.poll() is not None:
            self.procs.stop_all()
            raise AssertionError(f"{name} exited with {sim.returncode}:\n{read_log(sim)}")
        return sim

    def start_daemon(self, wrapper=()):
        """Starts ecmgw and waits for its store; with a command key, also for it to be
        subscribed to its commands topic (a command sent before that is not delivered:
        the daemon's session is clean). `wrapper`: a command line ecmgw runs under
        (strace, …)."""
        log_path = os.path.join(self.workdir, "ecmgw.log")
        connected_before = 0
        started_before = 0
        if os.path.exists(log_path):
            with open(log_path, "rb") as f:
                text = f.read()
            connected_before = text.count(b"cloud: connected")
            started_before = text.count(b" bus(es), ")
        self.daemon = self.procs.start("ecmgw", [*wrapper, ECMGW, "--log-level", "debug", "run",
                                                 "--config", self.config])
        database = os.path.join(self.data_dir, "ecmgw.db")

        def store_open():
            if self.daemon.poll() is not None:
                raise AssertionError(f"ecmgw exited with {self.daemon.returncode}:\n{read_log(self.daemon)}")
            if not os.path.exists(database):
                return False
            try:
                # Each migration commits on its own: wait for the last one.
                return store_query(self.data_dir, "PRAGMA user_version")[0][0] >= SCHEMA_VERSION
            except sqlite3.OperationalError:
                return False  # created but not yet migrated
        wait_for(store_open, 30, "ecmgw to open and migrate its store")
        # Accounts, tariffs and supply rows are written after the migration; the
        # daemon names its gateway once everything is built.
        daemon = self.daemon

        def started():
            if daemon.poll() is not None:
                raise AssertionError(f"ecmgw exited with {daemon.returncode}:\n{read_log(daemon)}")
            return read_log(daemon).count(" bus(es), ") > started_before
        wait_for(started, 30, "ecmgw to finish starting")
        if self.command_key is not None:
            daemon = self.daemon

            def subscribed():
                if daemon.poll() is not None:
                    raise AssertionError(f"ecmgw exited with {daemon.returncode}:\n{read_log(daemon)}")
                return read_log(daemon).count("cloud: connected") > connected_before
            wait_for(subscribed, 30, "ecmgw to connect and subscribe to its commands")
        return self.daemon

    def command_sender(self):
        if self._command_sender is None:
            self._command_sender = CommandSender(self.broker, "ecm/v1/gw-test/commands")
        return self._command_sender

    def acks(self, command_id=None):
        """The acknowledgements received (one per seq), or those naming `command_id`."""
        seen, out = set(), []
        for a in self.feed.records("acks"):
            if a["seq"] not in seen and (command_id is None or a["id"] == command_id):
                seen.add(a["seq"])
                out.append(a)
        return out

    def wait_ack(self, command_id, timeout=30):
        """The first acknowledgement naming `command_id`, waiting for it."""
        return wait_for(lambda: (self.acks(command_id) or [None])[0], timeout,
                        f"the acknowledgement of command {command_id}")

    def answers(self):
        """(meter id, quantity) → set of value texts the simulator sent."""
        out = {}
        if not os.path.exists(self.answer_log):
            return out
        with open(self.answer_log) as f:
            for line in f:
                if line.endswith("\n"):
                    a = json.loads(line)
                    out.setdefault((answer_meter(a, self.meter_ids), a["quantity"]), set()).add(a["value"])
        return out

    def close(self):
        if self._command_sender is not None:
            self._command_sender.close()
        self.feed.close()
        self.procs.stop_all()
        if os.environ.get("ECMGW_KEEP_TEST_DIRS"):
            print(f"kept {self.workdir}")
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)


def append_outbox_readings(data_dir, n, meter="E-0001", quantity="energy_kwh"):
    """Appends `n` reading records to the outbox of a store no daemon has open, as the
    daemon would have (next seqs, counter raised in the same transaction): a backlog in
    a second instead of hours of polling. Returns (first seq, last seq)."""
    db = sqlite3.connect(f"{data_dir}/ecmgw.db", timeout=10)
    try:
        with db:
            last = db.execute("SELECT value FROM sequence WHERE name = 'outbox'").fetchone()[0]
            now_ms = int(time.time() * 1000)
            ts = rfc3339_now()
            db.executemany(
                "INSERT INTO outbox (seq, kind, body, created_ms) VALUES (?, 'reading', ?, ?)",
                ((last + i, f'{{"meter":"{meter}","ts":"{ts}","quantity":"{quantity}","value":{i}.00}}',
                  now_ms) for i in range(1, n + 1)))
            db.execute("UPDATE sequence SET value = ? WHERE name = 'outbox'", (last + n,))
        return last + 1, last + n
    finally:
        db.close()


def retained(broker, topic, timeout=10.0):
    """The message retained on `topic` (parsed JSON), read by a fresh subscriber; None
    when none arrives within `timeout`."""
    got = []
    done = threading.Event()
    client = mqtt.Client(client_id=f"test-retained-{os.getpid()}-{time.monotonic_ns()}", clean_session=True)

    def on_connect(c, u, f, rc):
        c.subscribe(topic, qos=1)

    def on_message(c, u, msg):
        if msg.retain:
            got.append(json.loads(msg.payload))
        done.set()

    client.on_connect, client.on_message = on_connect, on_message
    client.connect("127.0.0.1", broker.port, keepalive=10)
    client.loop_start()
    try:
        done.wait(timeout)
    finally:
        client.loop_stop()
        client.disconnect()
    return got[0] if got else None


def statuses(feed):
    """Every status message the feed received, in arrival order."""
    with feed.lock:
        return list(feed.status)


def log_count(proc, text):
    return read_log(proc).count(text)
