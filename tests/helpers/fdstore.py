#!/usr/bin/env python3
"""A stand-in for systemd's service manager, as far as curatefs.service uses
it (sd_notify(3), FDSTORE=1, sd_listen_fds(3)): start COMMAND with a
NOTIFY_SOCKET, keep the fds it stores, and when it dies (or on the first
line "restart" on stdin, which SIGKILLs COMMAND and every process it started,
as KillMode=control-group does) start it again with them as LISTEN_FDS.

  fdstore.py STATE_DIR -- COMMAND...

Writes STATE_DIR/events, one line per event: "ready PID", "stored NAME",
"removed NAME", "started PID", "exited PID STATUS"."""
import os, signal, socket, subprocess, sys, threading

state, cmd = sys.argv[1], sys.argv[3:]
events = open(os.path.join(state, "events"), "a", buffering=1)
sock_path = os.path.join(state, "notify")
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sock_path)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
store = {}  # name -> fd
lock = threading.Lock()
child = None


def log(*words):
    events.write(" ".join(str(w) for w in words) + "\n")


def receive():
    while True:
        msg, fds, _, _ = socket.recv_fds(sock, 4096, 16)
        fields = dict(l.split("=", 1) for l in msg.decode().splitlines() if "=" in l)
        with lock:
            if fields.get("FDSTORE") == "1":
                for fd in fds:
                    name = fields.get("FDNAME", "stored")
                    if name in store:
                        os.close(store[name])
                    store[name] = fd
                    log("stored", name)
            elif "FDSTOREREMOVE" in fields:
                name = fields.get("FDNAME")
                if name in store:
                    os.close(store.pop(name))
                log("removed", name)
            else:
                for fd in fds:
                    os.close(fd)
            if fields.get("READY") == "1":
                log("ready", child.pid if child else "?")


def start():
    global child
    with lock:
        names = list(store)
        fds = [store[n] for n in names]
    env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    if fds:
        env["LISTEN_FDS"] = str(len(fds))
        env["LISTEN_FDNAMES"] = ":".join(names)

    def place_fds():
        # the stored fds at 3, 4, ... (SD_LISTEN_FDS_START) and LISTEN_PID
        # set by the exec'd shell to its own pid (the one sd_listen_fds checks)
        os.setpgid(0, 0)
        dups = [os.dup(fd) for fd in fds]
        for i, fd in enumerate(dups):
            os.dup2(fd, 3 + i)
    shell = ["/bin/sh", "-c", 'LISTEN_PID=$$ exec "$@"' if fds else 'exec "$@"', "sh"] + cmd
    child = subprocess.Popen(shell, env=env, preexec_fn=place_fds, close_fds=False)
    log("started", child.pid)


threading.Thread(target=receive, daemon=True).start()
start()
for line in sys.stdin:
    word = line.strip()
    if word == "restart":
        # the whole control group: the holder and its serving processes
        os.killpg(child.pid, signal.SIGKILL)
        for p in os.listdir("/proc"):
            if p.isdigit():
                try:
                    if os.getpgid(int(p)) == child.pid:
                        os.kill(int(p), signal.SIGKILL)
                except OSError:
                    pass
        log("exited", child.pid, child.wait())
        start()
    elif word == "stop":
        child.send_signal(signal.SIGTERM)
        log("exited", child.pid, child.wait())
        # what it sent before exiting is still in the socket: take it
        sock.settimeout(0.5)
        try:
            while True:
                msg, fds, _, _ = socket.recv_fds(sock, 4096, 16)
                for fd in fds:
                    os.close(fd)
                if b"FDSTOREREMOVE=1" in msg:
                    log("removed", dict(l.split("=", 1) for l in msg.decode().splitlines()).get("FDNAME"))
        except (socket.timeout, BlockingIOError):
            pass
        break
