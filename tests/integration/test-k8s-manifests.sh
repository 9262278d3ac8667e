#!/bin/bash
# deploy/kubernetes without a cluster (issue 11 item 4): every YAML document
# there parses and carries what it must (the DaemonSet's host namespaces,
# privileges, volumes and propagation, the curatefs command and its mount
# point, probes, OnDelete; the example pods' annotations naming devices the
# generated spec defines, in the cdi.k8s.io/ key format), the Containerfile
# installs exactly the packages of the libraries the built binaries link, and
# every command the manifests run exists in the built binaries. As root, the
# DaemonSet's own scripts run here (paths moved into a private directory):
# the hook installer, the container command, the postStart spec writer and
# the probe; then the container is "killed" (SIGKILL to holder and serving
# process, as a runtime does to a hostPID container), leaving a dead mount,
# and the same command must detach it and serve again. With podman + runc
# (scripts/setup.sh installs them), the DaemonSet's container runs as a real
# container with the manifest's privileges, hostPID and volumes (Bidirectional
# as rshared over a shared bind): its FUSE mount must reach the host, runc's
# SIGKILL must take the serving process along, and a second container must
# start over the dead mount and serve. Needs no root for the static part;
# exit 77 only without python3-yaml.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C
[ -n "${SOURCE_ROOT:-}" ] || SOURCE_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
K8S=$SOURCE_ROOT/deploy/kubernetes
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml missing (scripts/setup.sh installs it)"
[ -x "${CURATE:-}" ] && [ -x "${CURATEFS:-}" ] || skip "CURATE/CURATEFS not built"
T=$(mktemp -d /tmp/curate-k8s-test.XXXXXX)
OUR_DIRS+=("$T")

# ---- the packages of the libraries curate and curatefs link (DT_NEEDED) ----------
needed_packages() {
        local b lib path
        for b in "$CURATE" "$CURATEFS"; do
                for lib in $(readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
                        path=$(ldd "$b" | awk -v l="$lib" '$1 == l { print $3 }')
                        [ -n "$path" ] || { echo "?$lib"; continue; }
                        dpkg -S "$path" 2>/dev/null || dpkg -S "$(readlink -f "$path")" 2>/dev/null || echo "?$lib"
                done
        done | sed 's/:.*//; s/:[a-z0-9]*$//' | sort -u | grep -vx libc6 |
                # a sanitizer build's runtimes (build-asan): the image builds without them
                grep -Evx 'lib(asan|ubsan|lsan|tsan)[0-9]*'
}
pkgs=$(needed_packages | tr '\n' ' ')
check "every linked library belongs to a Debian package ($pkgs)" eval '! grep -q "?" <<<"$pkgs"'

# ---- the CDI device names: from a generated spec as root, else from the help -------
devices=""
if [ "$(id -u)" = 0 ] && [ -c /dev/fuse ]; then
        if mount_curatefs; then
                "$CURATE" cdi generate --mountpoint "$MNT" --output "$T/spec.yaml" >"$T/gen.out" 2>&1
                check_eq "curate cdi generate writes a spec for a serving daemon" 0 "$?"
                devices=$(python3 -c '
import sys, yaml
s = yaml.safe_load(open(sys.argv[1]))
print(" ".join(s["kind"] + "=" + d["name"] for d in s["devices"]))' "$T/spec.yaml")
                echo "# generated spec devices: $devices"
        fi
fi
if [ -z "$devices" ]; then
        devices=$("$CURATE" cdi --help | tr '\n' ' ' | python3 -c '
import re, sys
h = sys.stdin.read()
kind = re.search(r"kind (\S+?),", h).group(1)
names = ["all"] if "device \"all\"" in h else []
names += re.search(r"one device per view \(([^)]*)\)", h).group(1).split()
print(" ".join(kind + "=" + n for n in names))')
        echo "# devices from curate cdi --help: $devices"
fi
views=$("$CURATE" oci-hook --help | tr '\n' ' ' | sed -n 's/.*(all, none, or a comma *list of \([^)]*\)).*/\1/p')
echo "# io.curate.views names: $views"

# ---- the static checks -----------------------------------------------------------
python3 - "$K8S" "$pkgs" "$devices" "$views" >"$T/static.out" 2>&1 <<'PY'
import glob, os, re, sys, yaml
k8s, pkgs, devices, views = sys.argv[1], set(sys.argv[2].split()), set(sys.argv[3].split()), set(sys.argv[4].split())
def check(desc, cond):
    print(("ok - " if cond else "not ok - ") + desc)
    return cond

docs = []
files = sorted(glob.glob(os.path.join(k8s, "*.yaml")) + glob.glob(os.path.join(k8s, "*.yml")))
check("deploy/kubernetes holds YAML files (%d)" % len(files), len(files) >= 3)
for f in files:
    try:
        ds = [d for d in yaml.safe_load_all(open(f)) if d is not None]
        check("%s parses (%d documents)" % (os.path.basename(f), len(ds)), len(ds) > 0)
    except yaml.YAMLError as e:
        check("%s parses: %s" % (os.path.basename(f), e), False)
        continue
    for d in ds:
        check("%s: %s/%s has apiVersion, kind and metadata.name" % (os.path.basename(f), d.get("kind"), (d.get("metadata") or {}).get("name")),
              all(k in d for k in ("apiVersion", "kind")) and (d.get("metadata") or {}).get("name"))
        docs.append((os.path.basename(f), d))

dss = [d for _, d in docs if d.get("kind") == "DaemonSet"]
if not check("exactly one DaemonSet", len(dss) == 1):
    sys.exit(0)
ds = dss[0]
check("DaemonSet apiVersion apps/v1", ds["apiVersion"] == "apps/v1")
spec, tmpl = ds["spec"], ds["spec"]["template"]
sel, labels = spec["selector"].get("matchLabels", {}), tmpl["metadata"].get("labels", {})
check("selector %s matches the template's labels" % sel, sel and all(labels.get(k) == v for k, v in sel.items()))
ns = ds["metadata"].get("namespace")
check("its namespace %s is defined beside it" % ns, any(d.get("kind") == "Namespace" and d["metadata"]["name"] == ns for _, d in docs))
pod = tmpl["spec"]
sa = pod.get("serviceAccountName")
check("its ServiceAccount %s is defined" % sa, sa is None or any(d.get("kind") == "ServiceAccount" and d["metadata"]["name"] == sa for _, d in docs))
check("hostPID: true (curatefs reads /proc/PID/cgroup of host pids)", pod.get("hostPID") is True)
check("updateStrategy OnDelete (a rolling update would kill every node's curatefs)", spec.get("updateStrategy", {}).get("type") == "OnDelete")
readme = open(os.path.join(k8s, "README.md")).read()
check("README documents OnDelete and curate daemon restart through kubectl exec",
      "OnDelete" in readme and "curate daemon restart" in readme and "kubectl" in readme and "exec" in readme)

ctrs = [c for c in pod["containers"] if c["name"] == "curatefs"]
if not check("a container named curatefs", len(ctrs) == 1):
    sys.exit(0)
c = ctrs[0]
check("it is privileged", (c.get("securityContext") or {}).get("privileged") is True)
vols = {v["name"]: v for v in pod.get("volumes", [])}
mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
def host_path(mount):
    return (vols.get(mount["name"]) or {}).get("hostPath") or {}
script = " ".join(c.get("command", []) + c.get("args", [])).replace("\\\n", " ")
m = re.search(r"exec\s+nsenter\s+--cgroup=/proc/1/ns/cgroup\s+--\s+curatefs\s+-f\s+-p\s+(\S+)\s+(\S+)\s*$", script)
if not check("the container execs curatefs -f -p PIDFILE MOUNTPOINT in the host's cgroup namespace", m is not None):
    print("#   " + script)
    sys.exit(0)
pidfile, mp = m.group(1), m.group(2)
want_pidfile = "/run/curate/curatefs-" + mp.replace("/", "_") + ".pid"
check("the pid file %s is where curate daemon looks (%s)" % (pidfile, want_pidfile), pidfile == want_pidfile)
parent = [mnt for p, mnt in mounts.items() if mp.startswith(p.rstrip("/") + "/")]
check("the mount point %s lies strictly below a volumeMount (a dead mount must not be the hostPath)" % mp, len(parent) == 1)
if parent:
    pm = parent[0]
    hp = host_path(pm)
    check("  that volumeMount %s has mountPropagation Bidirectional" % pm["mountPath"], pm.get("mountPropagation") == "Bidirectional")
    check("  on a hostPath of type DirectoryOrCreate with the same path", hp.get("type") == "DirectoryOrCreate" and hp.get("path") == pm["mountPath"])
for path, typ, ro in (("/dev/fuse", "CharDevice", None), ("/var/run/cdi", "DirectoryOrCreate", None),
                      ("/run/curate", "DirectoryOrCreate", None), ("/sys/fs/cgroup", None, True)):
    mnt = mounts.get(path)
    hp = host_path(mnt) if mnt else {}
    check("%s mounted from the host's %s%s" % (path, path, " read-only" if ro else ""),
          mnt is not None and hp.get("path") == path and (typ is None or hp.get("type") == typ) and (ro is None or mnt.get("readOnly") is True))
check("the pid file's directory is the mounted /run/curate", os.path.dirname(pidfile) == "/run/curate")
probe = (c.get("readinessProbe") or {}).get("exec", {}).get("command")
check("the readiness probe runs curate daemon status --mountpoint %s" % mp, probe == ["curate", "daemon", "status", "--mountpoint", mp])
ps = " ".join(c.get("lifecycle", {}).get("postStart", {}).get("exec", {}).get("command", []))
g = re.search(r"curate cdi generate --mountpoint (\S+) --output (\S+)", ps)
check("postStart writes the CDI spec for the mount point into /var/run/cdi",
      g is not None and g.group(1) == mp and os.path.dirname(g.group(2)) == "/var/run/cdi" and g.group(2).endswith(".yaml"))
check("postStart waits for curate daemon status first", "until curate daemon status --mountpoint " + mp in ps)
check("no livenessProbe (a restart ends every running container's views)", "livenessProbe" not in c)
check("no memory limit on curatefs (an OOM kill of the holder ends every container's views)",
      "memory" not in (c.get("resources") or {}).get("limits", {}) and (c.get("resources") or {}).get("requests"))
hooks = [i for i in pod.get("initContainers", []) if "hooks.d" in " ".join(i.get("command", []))]
if check("an init container installs the hooks.d definition", len(hooks) == 1):
    hm = {m["mountPath"]: m for m in hooks[0].get("volumeMounts", [])}
    check("  into the host's /etc/containers/oci/hooks.d", host_path(hm.get("/etc/containers/oci/hooks.d", {"name": ""})).get("path") == "/etc/containers/oci/hooks.d")
    check("  with the mount point %s as the hook's --mountpoint" % mp, '"--mountpoint", "%s"' % mp in " ".join(hooks[0]["command"]))

# the example pods
pods = [(f, d) for f, d in docs if d.get("kind") == "Pod"]
cdi_pods = [(f, d) for f, d in pods if any(k.startswith("cdi.k8s.io/") for k in (d["metadata"].get("annotations") or {}))]
hook_pods = [(f, d) for f, d in pods if "io.curate.views" in (d["metadata"].get("annotations") or {})]
check("an example pod asks for the views through CDI", len(cdi_pods) >= 1)
check("an example pod asks for them through the hook (io.curate.views)", len(hook_pods) >= 1)
for f, d in cdi_pods:
    for k, v in d["metadata"]["annotations"].items():
        if not k.startswith("cdi.k8s.io/"):
            continue
        name = k[len("cdi.k8s.io/"):]
        check("%s: key %s: 1-63 characters, alphanumeric at both ends, [A-Za-z0-9_.-] between" % (f, k),
              re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?", name) is not None)
        for dev in v.split(","):
            check("%s: %s is a fully qualified device the generated spec defines" % (f, dev),
                  re.fullmatch(r"[a-z0-9.-]+\.[a-z]+/[A-Za-z0-9_.-]+=[A-Za-z0-9_.:-]+", dev) is not None and dev in devices)
for f, d in hook_pods:
    v = d["metadata"]["annotations"]["io.curate.views"]
    names = re.split(r"[\s,]+", v.strip())
    check("%s: io.curate.views=%s names views the hook takes" % (f, v), names == ["all"] or names == ["none"] or all(n in views for n in names))

# the Containerfile's runtime stage
cf = open(os.path.join(k8s, "Containerfile")).read().replace("\\\n", " ")
stages = re.split(r"(?m)^FROM\s+", cf)
last = stages[-1]
check("the runtime stage is debian:12", last.startswith("debian:12"))
inst = re.search(r"apt-get install ([^&]*)", last)
got = set(w for w in inst.group(1).split() if not w.startswith("-")) if inst else set()
check("the runtime stage installs exactly the linked libraries' packages (%s; Containerfile: %s)" % (" ".join(sorted(pkgs)), " ".join(sorted(got))), got == pkgs)
check("the build stage is debian:12 and runs meson install", stages[1].startswith("debian:12") and "meson install" in stages[1])
PY
cat "$T/static.out"
pass=$((pass + $(grep -c '^ok' "$T/static.out"))); fail=$((fail + $(grep -c '^not ok' "$T/static.out")))
grep -q '^Traceback' "$T/static.out" && not_ok "the static checks ran to the end"

# ---- what the manifests run exists in the built binaries ---------------------------
check "curatefs has -f/--foreground" eval '"$CURATEFS" --help | grep -q -- "-f, --foreground"'
check "curatefs has -p/--pidfile" eval '"$CURATEFS" --help | grep -q -- "-p, --pidfile"'
for sub in status stop restart; do
        check "curate daemon $sub exists" eval '"$CURATE" daemon --help | grep -qE "^  $sub "'
done
check "curate daemon takes --mountpoint" eval '"$CURATE" daemon --help | grep -q -- "--mountpoint DIR"'
check "curate cdi generate takes --mountpoint and --output" eval '"$CURATE" cdi --help | grep -q -- "--mountpoint DIR" && "$CURATE" cdi --help | grep -q -- "--output FILE"'
check "curate oci-hook takes --mountpoint" eval '"$CURATE" oci-hook --help | grep -q -- "--mountpoint DIR"'
check "nsenter takes --cgroup (util-linux)" eval 'nsenter --help | grep -q -- "--cgroup"'

# the image's paths the manifests name are where meson installs them (the
# Containerfile keeps the default prefix, /usr/local)
if [ -n "${BUILD_ROOT:-}" ] && [ -f "$BUILD_ROOT/build.ninja" ]; then
        installed=$(meson introspect "$BUILD_ROOT" --installed 2>/dev/null | python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin).values()))')
        if grep -q '^/usr/local/' <<<"$installed"; then
                for f in /usr/local/bin/curate /usr/local/share/containers/oci/hooks.d/50-curate.json; do
                        check "the manifests' $f is installed there" eval 'grep -qx "$f" <<<"$installed" && grep -q "$f" "$K8S/curatefs.yaml"'
                done
        else
                echo "# $BUILD_ROOT has another prefix: the image's install paths were not compared"
        fi
fi

# ---- as root: the DaemonSet's scripts themselves -----------------------------------
if [ "$(id -u)" != 0 ] || [ ! -c /dev/fuse ]; then
        echo "# not root or no /dev/fuse: the DaemonSet's scripts were not run"
        finish
fi
MP=$(python3 -c '
import re, sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "DaemonSet":
        c = d["spec"]["template"]["spec"]["containers"][0]
        print(re.search(r"curatefs -f -p \S+ (\S+)", " ".join(c["command"]).replace("\\\n", " ")).group(1))' "$K8S/curatefs.yaml")
# script NAME: the script of the init container or lifecycle/command NAME,
# with the host's paths moved beneath $T and the image's binaries the built
# ones; nsenter enters this test's own cgroup namespace rather than pid 1's
# (the same one on a host; in a sandbox pid 1's may be out of reach)
mkdir -p "$T/bin" "$T/root/opt/curate/bin" "$T/root/etc/containers/oci/hooks.d" "$T/root/var/run/cdi" "$T/root/var/lib/curate"
ln -s "$CURATE" "$T/bin/curate"; ln -s "$CURATEFS" "$T/bin/curatefs"
HOOK_JSON=${BUILD_ROOT:-}/oci/50-curate.json
script() {
        python3 - "$K8S/curatefs.yaml" "$1" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "DaemonSet":
        p = d["spec"]["template"]["spec"]
        c = p["containers"][0]
        s = {"install-hook": p["initContainers"][0]["command"], "command": c["command"],
             "postStart": c["lifecycle"]["postStart"]["exec"]["command"]}[sys.argv[2]]
        print(s[-1])
PY
}
run_script() { # NAME: run it the way the container does (/bin/sh -ec)
        local s
        s=$(script "$1" | sed -e "s|$MP|$T/root$MP|g" -e "s|/var/run/cdi|$T/root/var/run/cdi|g" \
                -e "s|/opt/curate/bin|$T/root/opt/curate/bin|g" -e "s|/etc/containers/oci/hooks.d|$T/root/etc/containers/oci/hooks.d|g" \
                -e "s|/proc/1/ns/cgroup|/proc/$$/ns/cgroup|g" -e "s|/usr/local/bin/curate|$CURATE|g" -e "s|/usr/local/share/containers/oci/hooks.d/50-curate.json|$HOOK_JSON|g" \
                -e "s|/run/curate/curatefs-[^ ]*\.pid|/run/curate/curatefs-$(echo "$T/root$MP" | tr / _).pid|g")
        PATH=$T/bin:$PATH /bin/sh -ec "$s"
}
MNT2=$T/root$MP
if [ -f "$HOOK_JSON" ]; then
        run_script install-hook
        check_eq "the hook installer succeeds" 0 "$?"
        check "it installed curate as the hook binary" cmp -s "$CURATE" "$T/root/opt/curate/bin/curate"
        check "the hooks.d definition names it, with the mount point" python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))
assert h["version"] == "1.0.0" and h["hook"]["path"] == sys.argv[2], h
assert h["hook"]["args"] == ["curate", "oci-hook", "--mountpoint", sys.argv[3]], h
assert "^io\\.curate\\.views$" in h["when"]["annotations"], h' "$T/root/etc/containers/oci/hooks.d/50-curate.json" "$T/root/opt/curate/bin/curate" "$MNT2"
else
        not_ok "the build's hooks.d definition $HOOK_JSON exists"
fi

start_container() { # the container command in the background; sets CPID
        run_script command >"$T/container.log" 2>&1 &
        CPID=$!
        OUR_PIDS+=("$CPID")
        OUR_MOUNTS+=("$MNT2")
}
start_container
run_script postStart >"$T/poststart.log" 2>&1
check_eq "postStart waits for the daemon and writes the spec" 0 "$?"
check "the container's curatefs serves the mount point (the readiness probe)" "$CURATE" daemon status --mountpoint "$MNT2"
check "the spec names files of that mount point" grep -q "$MNT2/proc/meminfo" "$T/root/var/run/cdi/curate.yaml"
check "meminfo is served" eval 'head -1 "$MNT2/proc/meminfo" | grep -q "^MemTotal:"'
PIDFILE=/run/curate/curatefs-$(echo "$MNT2" | tr / _).pid
OUR_PIDS+=("$(cat "$PIDFILE")"); OUR_DIRS+=("$PIDFILE")
check "the holder's pid file is where curate daemon finds it" eval '"$CURATE" daemon status --mountpoint "$MNT2" | grep -q "holder"'

# the runtime kills a hostPID container's every process (SIGKILL): a dead mount stays
holder=$(cat "$PIDFILE")
serving=$(pgrep -P "$holder")
check "the holder ($holder) and a serving process (${serving//$'\n'/ }) run" test -n "$holder" -a -n "$serving"
kill -KILL "$holder" $serving 2>/dev/null
wait "$CPID" 2>/dev/null
for i in $(seq 100); do stat "$MNT2" >/dev/null 2>&1 || break; sleep 0.05; done
"$CURATE" daemon status --mountpoint "$MNT2" >/dev/null 2>&1
check_eq "after SIGKILL of holder and serving process the mount is dead (status 3)" 3 "$?"
check "the hostPath directory above it still stats (a new container can bind it)" stat -c %n "$T/root/var/lib/curate"
start_container
run_script postStart >"$T/poststart.log" 2>&1
check_eq "the restarted container detaches the dead mount and serves again" 0 "$?"
check "meminfo is served again" eval 'head -1 "$MNT2/proc/meminfo" | grep -q "^MemTotal:"'
OUR_PIDS+=("$(cat "$PIDFILE")"); OUR_DIRS+=("$PIDFILE")
out=$("$CURATE" daemon restart --mountpoint "$MNT2" 2>&1)
check_eq "curate daemon restart (the upgrade README.md gives) replaces the serving process: $out" 0 "$?"
check "meminfo is served after it" eval 'head -1 "$MNT2/proc/meminfo" | grep -q "^MemTotal:"'
check_eq "one mount on the mount point, not two" 1 "$(awk -v m="$MNT2" '$5 == m' /proc/self/mountinfo | wc -l)"
kill -TERM "$(cat "$PIDFILE")"; wait "$CPID" 2>/dev/null
for i in $(seq 100); do mountpoint -q "$MNT2" || break; sleep 0.05; done
check "SIGTERM (a pod deleted with its grace period) unmounts" eval '! mountpoint -q "$MNT2"'
# ---- as root with podman + runc: the DaemonSet's container as a container ---------
# The manifest's securityContext, hostPID and volumes become podman options
# (each hostPath beneath $PT; the Bidirectional one a shared bind, as kubelet
# requires; /sys/fs/cgroup and /dev/fuse the host's), the rootfs holds the
# built binaries where the image has them, nsenter and dash as /bin/sh. This
# tries what no unit test can: the FUSE mount made in the container reaches
# the host through the propagation, and a runtime's SIGKILL of the container
# takes the serving process with the holder.
podman_part() {
        command -v podman >/dev/null && command -v runc >/dev/null || { echo "# podman or runc missing: the container part was not run"; return; }
        local bb PT R PM O v
        bb=$(command -v busybox) && ! ldd "$bb" >/dev/null 2>&1 || { echo "# no busybox-static: the container part was not run"; return; }
        PT=$T/podman; R=$PT/rootfs
        mkdir -p "$R"/{bin,proc,sys,dev,etc,tmp,usr/bin,usr/local/bin,usr/local/sbin}
        cp "$bb" "$R/bin/busybox"
        for v in sleep true; do ln -s busybox "$R/bin/$v"; done
        cp /bin/dash "$R/bin/sh"; cp "$CURATE" "$R/usr/local/bin/curate"; cp "$CURATEFS" "$R/usr/local/sbin/curatefs"
        cp "$(command -v nsenter)" "$R/usr/bin/nsenter"
        for v in /bin/dash "$CURATE" "$CURATEFS" "$(command -v nsenter)"; do
                for lib in $(ldd "$v" | grep -o '/[^ ]*'); do mkdir -p "$R$(dirname "$lib")" && cp -L "$lib" "$R$lib"; done
        done
        mapfile -t O < <(python3 - "$K8S/curatefs.yaml" "$PT" <<'PY2'
import sys, yaml
pt = sys.argv[2]
for d in yaml.safe_load_all(open(sys.argv[1])):
    if not d or d["kind"] != "DaemonSet":
        continue
    p = d["spec"]["template"]["spec"]
    c = [c for c in p["containers"] if c["name"] == "curatefs"][0]
    vols = {v["name"]: v["hostPath"] for v in p["volumes"]}
    if p.get("hostPID"): print("--pid=host")
    if c["securityContext"].get("privileged"): print("--privileged")
    for m in c["volumeMounts"]:
        hp = vols[m["name"]]
        if hp.get("type") == "CharDevice":
            print("--device=%s" % hp["path"])
        elif hp["path"] == "/sys/fs/cgroup":
            print("--volume=/sys/fs/cgroup:%s:ro" % m["mountPath"])
        else:
            opts = (["rshared"] if m.get("mountPropagation") == "Bidirectional" else []) + (["ro"] if m.get("readOnly") else [])
            print("--volume=%s%s:%s%s" % (pt, hp["path"], m["mountPath"], ":" + ",".join(opts) if opts else ""))
            print("#dir %s%s %s" % (pt, hp["path"], "shared" if "rshared" in opts else ""))
PY2
)
        local opts=() line
        for line in "${O[@]}"; do
                case $line in
                "#dir "*) set -- ${line#\#dir }; mkdir -p "$1"
                          if [ "${2:-}" = shared ]; then mount --bind "$1" "$1" && mount --make-shared "$1" && SHARED_BIND=$1; fi ;;
                *) opts+=("$line") ;;
                esac
        done
        [ -n "${SHARED_BIND:-}" ] || { not_ok "the DaemonSet has a Bidirectional hostPath"; return; }
        PODMAN=(podman --root "$PT/storage" --runroot "$PT/run" --tmpdir "$PT/tmp" --storage-driver vfs
                --runtime runc --cgroup-manager cgroupfs --events-backend none)
        local run=(run -d --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
                   -e PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${opts[@]}")
        local cmd
        cmd=$(script command | sed "s|/proc/1/ns/cgroup|/proc/self/ns/cgroup|g")
        local HMP=$PT$MP
        OUR_MOUNTS=("$HMP" "${OUR_MOUNTS[@]}" "$SHARED_BIND")
        if ! "${PODMAN[@]}" "${run[@]}" --name k8s-ds-1 --rootfs "$R" /bin/sh -ec "$cmd" >"$T/podman.out" 2>&1; then
                not_ok "podman runs the DaemonSet's container: $(tail -1 "$T/podman.out")"
                return
        fi
        "${PODMAN[@]}" exec k8s-ds-1 /bin/sh -ec "$(script postStart)" >"$T/podman-post.out" 2>&1
        check_eq "in the container, postStart writes the CDI spec" 0 "$?"
        check "the container's mount reached the host through the propagation" eval 'awk -v m="$HMP" '"'"'$5 == m && $9 == "fuse.curatefs"'"'"' /proc/self/mountinfo | grep -q .'
        check "the host reads the container's curatefs" eval 'head -1 "$HMP/proc/meminfo" | grep -q "^MemTotal:"'
        check "the probe passes in the container" "${PODMAN[@]}" exec k8s-ds-1 curate daemon status --mountpoint "$MP"
        check "the spec on the host names the node's paths" grep -q " $MP/proc/meminfo" "$PT/var/run/cdi/curate.yaml"
        local pidf holder serving
        pidf=$PT/run/curate/curatefs-$(echo "$MP" | tr / _).pid
        holder=$(cat "$pidf" 2>/dev/null); serving=$(pgrep -P "$holder" 2>/dev/null)
        check "holder ($holder) and serving process (${serving//$'\n'/ }) run" test -n "$holder" -a -n "$serving"
        "${PODMAN[@]}" kill -s KILL k8s-ds-1 >/dev/null 2>&1
        "${PODMAN[@]}" wait k8s-ds-1 >/dev/null 2>&1
        check "runc's SIGKILL of the container killed the serving process too" eval '! kill -0 $serving 2>/dev/null'
        check "and left a dead mount on the host (ENOTCONN)" eval '! stat "$HMP" >/dev/null 2>&1 && mountpoint -q "$SHARED_BIND"'
        "${PODMAN[@]}" rm -f k8s-ds-1 >/dev/null 2>&1
        if ! "${PODMAN[@]}" "${run[@]}" --name k8s-ds-2 --rootfs "$R" /bin/sh -ec "$cmd" >"$T/podman.out" 2>&1; then
                not_ok "podman starts the container again over the dead mount: $(tail -1 "$T/podman.out")"
                return
        fi
        for v in $(seq 100); do "${PODMAN[@]}" exec k8s-ds-2 curate daemon status --mountpoint "$MP" >/dev/null 2>&1 && break; sleep 0.1; done
        check "the new container detached the dead mount and serves again" eval 'head -1 "$HMP/proc/meminfo" | grep -q "^MemTotal:"'
        check_eq "one curatefs mount on the host's mount point" 1 "$(awk -v m="$HMP" '$5 == m' /proc/self/mountinfo | wc -l)"
        "${PODMAN[@]}" stop -t 10 k8s-ds-2 >/dev/null 2>&1
        check "podman stop (SIGTERM, as a pod deletion) unmounts on the host" eval '! mountpoint -q "$HMP"'
}
podman_cleanup() {
        [ ${#PODMAN[@]} -gt 0 ] || return 0
        "${PODMAN[@]}" rm -a -f >/dev/null 2>&1
        awk -v t="$T/podman/" 'index($5, t) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
}
PODMAN=()
trap 'podman_cleanup; cleanup' EXIT
podman_part
finish
