"""Process and namespace helpers shared by the bench sections.

Every namespace and instance a section makes carries the run's prefix
(BENCH_PREFIX, set by bench/run), every child process is started here and
remembered by PID, and cleanup() removes exactly those: nothing is found by
name pattern outside the prefix, nothing is killed that this run did not
start. No address, route or rule is ever added in the root namespace.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time

PREFIX = os.environ.get("BENCH_PREFIX") or "ntb%d" % os.getpid()
BUILD = os.environ.get("NT_BUILD_DIR") or os.path.join(os.path.dirname(__file__), "..", "..", "build")
NEUTRINO = os.environ.get("NEUTRINO") or os.path.join(BUILD, "neutrino")
BENCH_BIN = os.path.join(BUILD, "bench")
IPT = "iptables-legacy"  # the reference uses the legacy (linear x_tables) backend, as Neutron did

_children = {}      # pid -> Popen, still running
_namespaces = []    # created by this process, deleted in reverse order
_instances = []     # neutrino instances applied by this process


def log(msg):
    sys.stderr.write("  %s\n" % msg)
    sys.stderr.flush()


class Failed(Exception):
    pass


def sh(cmd, timeout=120, check=True, input=None, capture=True):
    """Runs a command (list) to completion, bounded by timeout."""
    try:
        r = subprocess.run(cmd, input=input, timeout=timeout, text=True,
                           stdout=subprocess.PIPE if capture else None,
                           stderr=subprocess.PIPE if capture else None)
    except subprocess.TimeoutExpired:
        raise Failed("timed out after %ss: %s" % (timeout, " ".join(cmd)))
    if check and r.returncode != 0:
        raise Failed("%s: exit %d: %s" % (" ".join(cmd[:6]), r.returncode, (r.stderr or "").strip()[-600:]))
    return r


def nsx(ns, *cmd):
    return ["ip", "netns", "exec", ns] + list(cmd)


def add_netns(name):
    sh(["ip", "netns", "add", name])
    _namespaces.append(name)
    sh(["ip", "-n", name, "link", "set", "lo", "up"])
    # No IPv6 (no router solicitations, DAD, MLD): only the bench's traffic.
    for knob in ("all", "default"):
        sh(nsx(name, "sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % knob), check=False)
    return name


def del_netns(name):
    kill_ns_processes(name)
    sh(["ip", "netns", "del", name], check=False)
    if name in _namespaces:
        _namespaces.remove(name)


def kill_ns_processes(name):
    """Processes inside one of this run's namespaces: started by this run."""
    r = sh(["ip", "netns", "pids", name], check=False)
    for pid in (r.stdout or "").split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def ip_batch(ns, lines, timeout=300):
    sh(["ip", "-n", ns, "-batch", "-"], input="\n".join(lines) + "\n", timeout=timeout)


def run_measured(cmd, timeout, stdin_path=None):
    """Runs cmd, bounded by timeout; returns dict with wall, cpu (user+sys of
    it and its waited-for descendants), peak RSS (KB) and the outputs."""
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _children[p.pid] = p
    out_chunks, err_chunks = [], []
    def drain(f, into):
        for chunk in iter(lambda: f.read(65536), b""):
            into.append(chunk)

    th = [threading.Thread(target=drain, args=(p.stdout, out_chunks), daemon=True),
          threading.Thread(target=drain, args=(p.stderr, err_chunks), daemon=True)]
    for t in th:
        t.start()
    killed = False
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        if time.monotonic() - t0 > timeout:
            os.kill(p.pid, signal.SIGKILL)
            killed = True
            pid, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.005)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    _children.pop(p.pid, None)
    for t in th:
        t.join(5)
    if stdin_path:
        stdin.close()
    return {"rc": p.returncode, "killed": killed, "wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime,
            "user_s": ru.ru_utime, "sys_s": ru.ru_stime, "peak_rss_kb": ru.ru_maxrss,
            "stdout": b"".join(out_chunks).decode(errors="replace"),
            "stderr": b"".join(err_chunks).decode(errors="replace")}


def start_measured(cmd):
    """Starts cmd in the background; finish_measured() reaps it with wait4."""
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _children[p.pid] = p
    p._t0 = time.monotonic()
    return p


def finish_measured(p, timeout):
    """Waits for p (killing it by PID at the deadline) and returns its
    outputs, CPU time (with its reaped descendants) and wall time."""
    deadline = p._t0 + timeout
    killed = False
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            break
        if time.monotonic() > deadline:
            os.kill(p.pid, signal.SIGKILL)
            killed = True
            pid, status, ru = os.wait4(p.pid, 0)
            break
        time.sleep(0.01)
    _children.pop(p.pid, None)
    p.returncode = os.waitstatus_to_exitcode(status)
    out = p.stdout.read().decode(errors="replace")
    err = p.stderr.read().decode(errors="replace")
    return {"rc": p.returncode, "killed": killed, "cpu_s": ru.ru_utime + ru.ru_stime,
            "wall_s": time.monotonic() - p._t0, "stdout": out, "stderr": err}


def ksoftirqd_pids():
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/comm" % d) as f:
                    if f.read().startswith("ksoftirqd/"):
                        pids.append(int(d))
            except OSError:
                pass
    return pids


def proc_cpu_s(pids):
    """utime+stime of the given tasks, in seconds."""
    tck = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / tck


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def destroy_instance(name, timeout=120):
    """`neutrino destroy`, bounded; if it cannot finish (or fails), the pins
    of this run's instance are removed directly (its namespaces, and with
    them the devices its hooks were on, are gone by then or go next)."""
    r = None
    try:
        r = sh([NEUTRINO, "--instance", name, "destroy"], check=False, timeout=timeout)
    except Failed:
        pass
    pins = "/sys/fs/bpf/neutrino/" + name
    if (r is None or r.returncode != 0) and name.startswith(PREFIX) and os.path.isdir(pins):
        sh(["rm", "-rf", pins], check=False)
    if name in _instances:
        _instances.remove(name)


def register_instance(name):
    if name not in _instances:
        _instances.append(name)


def cleanup():
    for pid, p in list(_children.items()):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _children.pop(pid, None)
    for name in list(_instances):
        destroy_instance(name)
    for name in reversed(list(_namespaces)):
        del_netns(name)


def install_signal_cleanup():
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def write_json(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=2)
    os.replace(tmp, path)
