#!/usr/bin/python3
"""Captures the MQTT packets that real clients and a real broker exchange, as fixtures for the
codec's unit tests (tests/unit/mqtt/fixtures/*.hex) and seeds for its fuzz target
(tests/fuzz/corpus/mqtt_packet/).

Each scenario starts its own mosquitto broker on a free 127.0.0.1 port, and a recording proxy on
another; a client (mosquitto_pub, mosquitto_sub or paho-mqtt) connects to the proxy, which relays
every byte to the broker and back while cutting the stream into packets. Nothing in a fixture
comes from our encoder: the client wrote the 'c' packets and mosquitto the 's' ones.

    /usr/bin/python3 tests/unit/mqtt/capture_fixtures.py            # regenerate everything
    /usr/bin/python3 tests/unit/mqtt/capture_fixtures.py pub_v5_qos1  # one scenario

Needs: mosquitto, mosquitto-clients, python3-paho-mqtt (Debian's module loads in /usr/bin/python3).
Every wait is bounded; processes started here are stopped here.

Fixture format (read by fixtures.h): '#' lines are comments; '# version: N' names the protocol
level of the CONNECT; every other line is '<c|s> <hex of one whole packet>', c for client to
server, s for server to client, in the order they crossed the proxy.

Fuzz seed format (see tests/fuzz/mqtt_packet_fuzz.cc): one byte of options (bit 0: 1 = MQTT 5.0),
then the packets of one direction back to back.
"""
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
CORPUS = os.path.normpath(os.path.join(HERE, "..", "..", "fuzz", "corpus", "mqtt_packet"))
HOST = "127.0.0.1"
CLIENT_TIMEOUT_S = 20
BROKER_START_TIMEOUT_S = 10


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout_s):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {HOST}:{port} after {timeout_s} s")


class Broker:
    """A mosquitto broker on a free port, configured for one scenario."""

    def __init__(self, extra_config=""):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="trib-mqtt-capture-")
        conf = os.path.join(self.dir, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write(f"listener {self.port} {HOST}\npersistence false\nlog_dest none\n")
            f.write(extra_config or "allow_anonymous true\n")
        self.proc = subprocess.Popen(["mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        try:
            wait_for_port(self.port, BROKER_START_TIMEOUT_S)
        except Exception:
            self.stop()
            raise

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)


def split_packets(buf):
    """Cuts whole packets off the front of buf; returns (packets, rest)."""
    packets = []
    while len(buf) >= 2:
        length, mult, i = 0, 1, 1
        while True:
            if i >= len(buf):
                return packets, buf
            b = buf[i]
            length += (b & 0x7F) * mult
            mult *= 128
            i += 1
            if not b & 0x80:
                break
            if i > 4:
                raise ValueError("remaining length longer than 4 bytes")
        total = i + length
        if len(buf) < total:
            break
        packets.append(bytes(buf[:total]))
        buf = buf[total:]
    return packets, buf


class Proxy(threading.Thread):
    """Accepts one connection, relays it to the broker and records each packet with its direction."""

    def __init__(self, broker_port):
        super().__init__(daemon=True)
        self.broker_port = broker_port
        self.listener = socket.socket()
        self.listener.bind((HOST, 0))
        self.listener.listen(1)
        self.listener.settimeout(CLIENT_TIMEOUT_S)
        self.port = self.listener.getsockname()[1]
        self.records = []  # (direction, packet bytes)
        self.error = None

    def run(self):
        try:
            self._relay()
        except Exception as e:  # reported by the scenario
            self.error = e
        finally:
            self.listener.close()

    def _relay(self):
        client, _ = self.listener.accept()
        server = socket.create_connection((HOST, self.broker_port), timeout=5)
        pending = {"c": b"", "s": b""}
        peer = {client: (server, "c"), server: (client, "s")}
        sel = selectors.DefaultSelector()
        sel.register(client, selectors.EVENT_READ)
        sel.register(server, selectors.EVENT_READ)
        deadline = time.monotonic() + CLIENT_TIMEOUT_S
        open_ends = 2
        while open_ends and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.2):
                src = key.fileobj
                dst, direction = peer[src]
                try:
                    data = src.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    sel.unregister(src)
                    open_ends -= 1
                    try:
                        dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    continue
                pending[direction] += data
                packets, pending[direction] = split_packets(pending[direction])
                self.records.extend((direction, p) for p in packets)
                try:
                    dst.sendall(data)
                except OSError:
                    pass
        client.close()
        server.close()


# ---- paho clients (run in a child /usr/bin/python3 with: --paho <name> <port>) ----------------------


def paho_v311(port):
    import paho.mqtt.client as mqtt

    done = threading.Event()
    c = mqtt.Client(client_id="paho311", clean_session=True, protocol=mqtt.MQTTv311)
    c.username_pw_set("alice", "s3cret")
    c.will_set("clients/paho311/status", b"offline", qos=1, retain=True)
    c.on_connect = lambda *a: done.set()
    c.connect(HOST, port, keepalive=2)
    c.loop_start()
    assert done.wait(10)
    r, mid = c.subscribe([("sensors/+/temp", 1), ("alerts/#", 2), ("status", 0)])
    time.sleep(0.3)
    c.publish("sensors/dev1/temp", b"21.5", qos=0).wait_for_publish(10)
    c.publish("sensors/dev1/temp", b"21.6", qos=1).wait_for_publish(10)
    c.publish("alerts/dev1/overheat", b'{"t":91.2}', qos=2).wait_for_publish(10)
    c.publish("status", b"", qos=1, retain=True).wait_for_publish(10)
    time.sleep(3)  # keep alive 2 s: a PINGREQ / PINGRESP
    c.unsubscribe(["sensors/+/temp", "alerts/#"])
    time.sleep(0.3)
    c.disconnect()
    c.loop_stop()


def paho_v5(port):
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties
    from paho.mqtt.subscribeoptions import SubscribeOptions

    done = threading.Event()
    c = mqtt.Client(client_id="paho5", protocol=mqtt.MQTTv5)
    c.username_pw_set("bob", b"\x00\x01binary\xff")
    wp = Properties(PacketTypes.WILLMESSAGE)
    wp.WillDelayInterval = 10
    wp.PayloadFormatIndicator = 1
    wp.MessageExpiryInterval = 3600
    wp.ContentType = "text/plain"
    wp.ResponseTopic = "replies/paho5"
    wp.CorrelationData = b"will-1"
    wp.UserProperty = ("kind", "will")
    c.will_set("clients/paho5/status", "gone \u00e9\u4e2d", qos=2, retain=False, properties=wp)
    cp = Properties(PacketTypes.CONNECT)
    cp.SessionExpiryInterval = 120
    cp.ReceiveMaximum = 32
    cp.MaximumPacketSize = 65536
    cp.TopicAliasMaximum = 8
    cp.RequestResponseInformation = 1
    cp.RequestProblemInformation = 0
    cp.UserProperty = [("app", "tributary"), ("run", "1")]
    c.on_connect = lambda *a: done.set()
    c.connect(HOST, port, keepalive=2, clean_start=True, properties=cp)
    c.loop_start()
    assert done.wait(10)
    sp = Properties(PacketTypes.SUBSCRIBE)
    sp.SubscriptionIdentifier = 42
    sp.UserProperty = ("sub", "one")
    c.subscribe("sensors/+/temp", options=SubscribeOptions(qos=1, retainAsPublished=True, retainHandling=1),
                properties=sp)
    c.subscribe([("alerts/#", SubscribeOptions(qos=2, noLocal=True, retainHandling=2)),
                 ("$SYS/broker/uptime", SubscribeOptions(qos=0))])
    time.sleep(0.3)
    pp = Properties(PacketTypes.PUBLISH)
    pp.PayloadFormatIndicator = 1
    pp.MessageExpiryInterval = 60
    pp.ContentType = "application/json"
    pp.ResponseTopic = "replies/paho5"
    pp.CorrelationData = b"\x01\x02\x03"
    pp.UserProperty = [("device", "dev1"), ("seq", "7")]
    pp.TopicAlias = 1
    c.publish("sensors/dev1/temp", b'{"t":21.5}', qos=1, properties=pp).wait_for_publish(10)
    ap = Properties(PacketTypes.PUBLISH)
    ap.TopicAlias = 1
    c.publish("", b'{"t":21.7}', qos=1, properties=ap).wait_for_publish(10)
    c.publish("alerts/dev1/overheat", b"x" * 300, qos=2).wait_for_publish(10)
    c.publish("sensors/dev2/temp", b"19.0", qos=0).wait_for_publish(10)
    time.sleep(3)  # keep alive 2 s: a PINGREQ / PINGRESP
    up = Properties(PacketTypes.UNSUBSCRIBE)
    up.UserProperty = ("bye", "now")
    c.unsubscribe(["sensors/+/temp", "alerts/#", "never/subscribed"], properties=up)
    time.sleep(0.3)
    dp = Properties(PacketTypes.DISCONNECT)
    dp.SessionExpiryInterval = 0
    dp.ReasonString = "done"
    dp.UserProperty = ("why", "test")
    from paho.mqtt.reasoncodes import ReasonCodes
    c.disconnect(reasoncode=ReasonCodes(PacketTypes.DISCONNECT, "Disconnect with will message"), properties=dp)
    c.loop_stop()


def paho_v5_bad_auth(port):
    """A CONNECT with an authentication method mosquitto does not know: CONNACK 0x8C."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    done = threading.Event()
    c = mqtt.Client(client_id="paho5auth", protocol=mqtt.MQTTv5)
    cp = Properties(PacketTypes.CONNECT)
    cp.AuthenticationMethod = "SCRAM-SHA-256"
    cp.AuthenticationData = b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL"
    c.on_connect = lambda *a: done.set()
    c.on_disconnect = lambda *a: done.set()
    c.connect(HOST, port, keepalive=30, properties=cp)
    c.loop_start()
    done.wait(10)
    time.sleep(0.3)
    c.loop_stop()


PAHO = {"paho_v311": paho_v311, "paho_v5": paho_v5, "paho_v5_bad_auth": paho_v5_bad_auth}

# ---- scenarios ---------------------------------------------------------------------------------------


def mosquitto_pub(*args):
    return lambda port: ["mosquitto_pub", "-h", HOST, "-p", str(port), *args]


def mosquitto_sub(*args):
    return lambda port: ["mosquitto_sub", "-h", HOST, "-p", str(port), *args]


def paho(name):
    return lambda port: ["/usr/bin/python3", os.path.abspath(__file__), "--paho", name, str(port)]


def retained(topic, payload, qos, version="mqttv311"):
    """Publishes a retained message straight to the broker (not through the proxy) beforehand."""
    return lambda broker_port: ["mosquitto_pub", "-h", HOST, "-p", str(broker_port), "-V", version, "-t",
                                topic, "-m", payload, "-q", str(qos), "-r"]


BIG_PAYLOAD = "".join(chr(ord("a") + i % 26) for i in range(20000))  # 3-byte remaining length

SCENARIOS = {
    "pub_v311_qos0": dict(
        about="mosquitto_pub, MQTT 3.1.1, QoS 0",
        client=mosquitto_pub("-V", "mqttv311", "-i", "pub311", "-t", "sensors/dev1/temp", "-m", "21.5")),
    "pub_v311_qos1_will_auth": dict(
        about="mosquitto_pub, 3.1.1, QoS 1 retained, will (QoS 1, retained), user name and password",
        client=mosquitto_pub("-V", "mqttv311", "-i", "pub311w", "-q", "1", "-r", "-k", "45", "-u", "alice",
                             "-P", "s3cret", "--will-topic", "clients/pub311w/status", "--will-payload",
                             "offline", "--will-qos", "1", "--will-retain", "-t", "sensors/dev1/temp", "-m",
                             "22.0")),
    "pub_v311_qos2_persistent": dict(
        about="mosquitto_pub, 3.1.1, QoS 2, clean session off, 200-byte payload (2-byte length)",
        client=mosquitto_pub("-V", "mqttv311", "-i", "pub311q2", "-c", "-q", "2", "-t", "alerts/dev1/overheat",
                             "-m", "h" * 200)),
    "pub_v31_unsupported": dict(
        about="mosquitto_pub, MQTT 3.1 (MQIsdp, level 3): a version we do not speak",
        client=mosquitto_pub("-V", "mqttv31", "-i", "pub31", "-t", "sensors/dev1/temp", "-m", "1")),
    "pub_v311_refused": dict(
        about="mosquitto_pub, 3.1.1, broker refuses anonymous clients: CONNACK return code 5",
        broker="allow_anonymous false\n",
        client=mosquitto_pub("-V", "mqttv311", "-i", "anon311", "-t", "a", "-m", "1")),
    "pub_v5_qos1_properties": dict(
        about="mosquitto_pub, MQTT 5.0, QoS 1, CONNECT and PUBLISH properties",
        client=mosquitto_pub(
            "-V", "mqttv5", "-i", "pub5", "-q", "1", "-t", "sensors/dev1/temp", "-m", '{"t":21.5}',
            "-D", "connect", "session-expiry-interval", "300", "-D", "connect", "receive-maximum", "20",
            "-D", "connect", "maximum-packet-size", "100000", "-D", "connect", "topic-alias-maximum", "10",
            "-D", "connect", "request-problem-information", "1", "-D", "connect",
            "request-response-information", "1", "-D", "connect", "user-property", "client", "pub5",
            "-D", "publish", "payload-format-indicator", "1", "-D", "publish", "message-expiry-interval",
            "60", "-D", "publish", "content-type", "application/json", "-D", "publish", "response-topic",
            "replies/pub5", "-D", "publish", "correlation-data", "corr-1", "-D", "publish", "user-property",
            "a", "b", "-D", "publish", "user-property", "c", "d", "-D", "publish", "topic-alias", "1",
            "-D", "disconnect", "session-expiry-interval", "0", "-D", "disconnect", "user-property", "bye",
            "now")),
    "pub_v5_qos2_will": dict(
        about="mosquitto_pub, 5.0, QoS 2, will with every will property, user name and password",
        client=mosquitto_pub(
            "-V", "mqttv5", "-i", "pub5w", "-q", "2", "-u", "bob", "-P", "pw", "--will-topic",
            "clients/pub5w/status", "--will-payload", "offline", "--will-qos", "2", "--will-retain",
            "-D", "will", "will-delay-interval", "30", "-D", "will", "payload-format-indicator", "1",
            "-D", "will", "message-expiry-interval", "600", "-D", "will", "content-type", "text/plain",
            "-D", "will", "response-topic", "replies/will", "-D", "will", "correlation-data", "will-corr",
            "-D", "will", "user-property", "w", "x", "-t", "alerts/dev1/overheat", "-m", "91.2")),
    "pub_v5_big": dict(
        about="mosquitto_pub, 5.0, QoS 1, 20000-byte payload (3-byte remaining length)",
        client=mosquitto_pub("-V", "mqttv5", "-i", "pub5big", "-q", "1", "-t", "bulk/dev1", "-m", BIG_PAYLOAD)),
    "pub_v5_refused": dict(
        about="mosquitto_pub, 5.0, broker refuses anonymous clients: CONNACK 0x87",
        broker="allow_anonymous false\n",
        client=mosquitto_pub("-V", "mqttv5", "-i", "anon5", "-t", "a", "-m", "1")),
    "sub_v311": dict(
        about="mosquitto_sub, 3.1.1, two filters at QoS 1, receives one retained QoS 1 message",
        before=retained("sensors/dev9/temp", "18.25", 1),
        client=mosquitto_sub("-V", "mqttv311", "-i", "sub311", "-k", "30", "-q", "1", "-t", "sensors/+/temp",
                             "-t", "alerts/#", "-C", "1")),
    "sub_v5": dict(
        about="mosquitto_sub, 5.0, persistent session, retain as published, QoS 2, unsubscribe, "
              "user properties; receives one retained QoS 2 message",
        before=retained("sensors/dev9/temp", "18.25", 2, "mqttv5"),
        client=mosquitto_sub("-V", "mqttv5", "-i", "sub5", "-c", "-x", "120", "-q", "2",
                             "--retain-as-published", "-t", "sensors/+/temp", "-t", "alerts/#", "-U",
                             "old/topic", "-D", "subscribe", "user-property", "k", "v", "-D",
                             "unsubscribe", "user-property", "u", "w", "-C", "1")),
    "paho_v311": dict(
        about="paho-mqtt 3.1.1: will, user name and password, three filters, QoS 0/1/2 publishes "
              "echoed back, PINGREQ, UNSUBSCRIBE",
        client=paho("paho_v311")),
    "paho_v5": dict(
        about="paho-mqtt 5.0: CONNECT, will and PUBLISH properties, topic alias, subscription "
              "identifier and options, $SYS subscription, PINGREQ, UNSUBSCRIBE, DISCONNECT 0x04",
        client=paho("paho_v5")),
    "paho_v5_bad_auth": dict(
        about="paho-mqtt 5.0: authentication method mosquitto does not support: CONNACK 0x8C",
        client=paho("paho_v5_bad_auth")),
}


def hexlify(b):
    return b.hex()


def connect_level(packet):
    """The protocol level byte of a CONNECT packet (0 if it is not one)."""
    if packet[0] >> 4 != 1:
        return 0
    i = 1
    while packet[i] & 0x80:
        i += 1
    i += 1  # past the remaining length
    name_length = int.from_bytes(packet[i:i + 2], "big")
    return packet[i + 2 + name_length]


def run_scenario(name, spec):
    broker = Broker(spec.get("broker"))
    try:
        if "before" in spec:
            subprocess.run(spec["before"](broker.port), check=True, timeout=CLIENT_TIMEOUT_S,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        proxy = Proxy(broker.port)
        proxy.start()
        argv = spec["client"](proxy.port)
        result = subprocess.run(argv, timeout=CLIENT_TIMEOUT_S, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        proxy.join(CLIENT_TIMEOUT_S)
        if proxy.is_alive():
            raise RuntimeError(f"{name}: the proxy did not finish")
        if proxy.error:
            raise RuntimeError(f"{name}: proxy failed: {proxy.error}")
        if not proxy.records:
            raise RuntimeError(f"{name}: nothing captured (client said: {result.stderr.decode()[:300]})")
        return argv, result.returncode, proxy.records
    finally:
        broker.stop()


def tool_versions():
    out = subprocess.run(["mosquitto", "-h"], capture_output=True, timeout=10).stdout.decode()
    mosq = out.splitlines()[0] if out else "mosquitto"
    import paho.mqtt
    return f"{mosq}; paho-mqtt {paho.mqtt.__version__}"


def write_outputs(name, spec, argv, rc, records, versions):
    level = connect_level(records[0][1])
    shown = [a if len(a) <= 60 else f"<{len(a)} bytes>" for a in argv]
    if "-p" in shown:
        shown[shown.index("-p") + 1] = "<port>"
    if argv[0] == "/usr/bin/python3":
        shown = [f"paho-mqtt client '{name}' in capture_fixtures.py"]
    lines = [
        "# Captured by tests/unit/mqtt/capture_fixtures.py; regenerate, do not edit.",
        f"# {spec['about']}",
        f"# client: {' '.join(shown)} (exit {rc})",
        f"# tools: {versions}",
        f"# version: {level}",
    ]
    lines += [f"{d} {hexlify(p)}" for d, p in records]
    os.makedirs(FIXTURES, exist_ok=True)
    with open(os.path.join(FIXTURES, f"{name}.hex"), "w") as f:
        f.write("\n".join(lines) + "\n")
    os.makedirs(CORPUS, exist_ok=True)
    options = b"\x01" if level == 5 else b"\x00"
    for direction in "cs":
        stream = b"".join(p for d, p in records if d == direction)
        if stream:
            with open(os.path.join(CORPUS, f"{name}_{direction}"), "wb") as f:
                f.write(options + stream)


def main(argv):
    if len(argv) >= 3 and argv[0] == "--paho":
        PAHO[argv[1]](int(argv[2]))
        return 0
    for tool in ("mosquitto", "mosquitto_pub", "mosquitto_sub"):
        if not shutil.which(tool):
            print(f"missing {tool}", file=sys.stderr)
            return 1
    versions = tool_versions()
    names = argv or list(SCENARIOS)
    for name in names:
        argv_used, rc, records = run_scenario(name, SCENARIOS[name])
        write_outputs(name, SCENARIOS[name], argv_used, rc, records, versions)
        print(f"{name}: {len(records)} packets ({sum(len(p) for _, p in records)} bytes), client exit {rc}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
