"""Authentication with a password file: users added by `tributary-gateway passwd` (PBKDF2-SHA256) and by
mosquitto_passwd (Mosquitto's PBKDF2-SHA512) both log in; a wrong password gets 0x86 (3.1.1: 0x04), no
user name with anonymous access off gets 0x87 (3.1.1: 0x05), with mosquitto_pub, python paho and
Paho C++."""
import os
import stat

from gwlib import *


def make_password_file(build_dir, d):
    path = os.path.join(d, "users.passwd")
    gw = binary(build_dir, "tributary-gateway")
    r = run([gw, "passwd", path, "alice", "--iterations", "1000"], input="alice-pw\n")
    check(r.returncode == 0, f"passwd: {r.returncode} {r.stderr}")
    check(stat.S_IMODE(os.stat(path).st_mode) == 0o600, "mode 0600")
    r = run([gw, "passwd", path, "carol"], input="first\n")
    check(r.returncode == 0, r.stderr)
    r = run([gw, "passwd", path, "carol"], input="carol-pw\r\n")  # update; CRLF from a pipe
    check(r.returncode == 0, r.stderr)
    text = open(path).read()
    check(text.count("carol:") == 1 and text.startswith("alice:$pbkdf2-sha256$1000$"), text)
    r = run([gw, "passwd", path, "bad:name"], input="x\n")
    check(r.returncode == 2 and "':'" in r.stderr, r.stderr)
    other = os.path.join(d, "mosq.passwd")
    r = run(["mosquitto_passwd", "-c", "-b", other, "bob", "bob-pw"])
    check(r.returncode == 0, r.stderr)
    with open(path, "a") as f:
        f.write("# from mosquitto_passwd\n" + open(other).read())
    return path


def test_password_file(build_dir, d):
    path = make_password_file(build_dir, d)
    cpp = binary(build_dir, "paho_cpp_client")
    cfg = {"auth": {"anonymous": False, "password_file": path}}
    with gateway(build_dir, d, config=cfg) as g:
        def pub(v, user=None, password=None):
            cmd = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(g.port), "-V", v, "-q", "1", "-t", "sensors/auth/x", "-m", "m"]
            if user is not None:
                cmd += ["-u", user, "-P", password]
            return run(cmd)

        for v in ("311", "5"):
            for user, pw in (("alice", "alice-pw"), ("bob", "bob-pw"), ("carol", "carol-pw")):
                r = pub(v, user, pw)
                check(r.returncode == 0, f"{user} -V {v}: {r.stderr}")
            r = pub(v, "alice", "wrong")
            check(r.returncode != 0 and "bad user name or password" in r.stderr.lower(), f"-V {v}: {r.stderr}")
            r = pub(v, "nobody", "x")
            check(r.returncode != 0 and "bad user name or password" in r.stderr.lower(), f"-V {v}: {r.stderr}")
            r = pub(v)
            check(r.returncode != 0 and "not authori" in r.stderr.lower(), f"-V {v} anonymous: {r.stderr}")

        a = paho_client(g.port, "paho-wrong3", version=3, user="alice", password="nope")
        check(a.wait_connack() == 4, f"3.1.1 return code 4, got {a.connack}")
        a.stop(disconnect=False)
        b = paho_client(g.port, "paho-wrong5", version=5, user="alice", password="nope")
        check(b.wait_connack() == 0x86, f"5.0 reason 0x86, got {b.connack}")
        b.stop(disconnect=False)
        c = paho_client(g.port, "paho-ok5", version=5, user="bob", password="bob-pw")
        check(c.wait_connack() == 0, f"bob: {c.connack}")
        c.publish_wait("sensors/paho-ok5/x", "ok", qos=2)
        c.stop()

        r = run([cpp, "--uri", f"tcp://127.0.0.1:{g.port}", "--id", "cpp-wrong", "--version", "5", "--user", "alice",
                 "--password", "nope", "--count", "1"])
        check(r.returncode == 3 and "=134" in r.stdout, f"{r.returncode} {r.stdout}")
        r = run([cpp, "--uri", f"tcp://127.0.0.1:{g.port}", "--id", "cpp-ok", "--version", "4", "--user", "alice",
                 "--password", "alice-pw", "--count", "3", "--topic", "sensors/cpp-ok/x"])
        check(r.returncode == 0, f"{r.returncode} {r.stdout}")

        m = g.metrics()
        check(m["tributary_gateway_mqtt_auth_failures_total"] == 7, m["tributary_gateway_mqtt_auth_failures_total"])
        check(m['tributary_gateway_mqtt_connects_refused_total{reason="not_authorized"}'] == 2, m)
        check(len(g.rows()) == 6 + 1 + 3, f"rows: {len(g.rows())}")


def test_bad_password_file_refuses_to_start(build_dir, d):
    path = os.path.join(d, "broken.passwd")
    with open(path, "w") as f:
        f.write("alice:$pbkdf2-sha256$10$AAAA\n")
    g = gateway(build_dir, d, config={"auth": {"password_file": path}})
    r = run(g.args())
    check(r.returncode == 2 and "broken.passwd:1" in r.stderr, f"{r.returncode} {r.stderr}")


if __name__ == "__main__":
    main([test_password_file, test_bad_password_file_refuses_to_start])
