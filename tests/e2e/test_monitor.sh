#!/usr/bin/env bash
# `neutrino monitor` end to end: a spoofed packet's drop shows up as an event
# (reason, port, 5-tuple) and in a pcap file tcpdump reads; the port, reason
# and address filters; the datapath's rate limit under a bounded flood; the
# datapath switch is off whenever no monitor runs, after --count, --duration,
# SIGINT and SIGTERM alike.
source "$(dirname "$0")/lib.sh"

STATE="$NT_SOURCE_DIR/tests/fixtures/e2e-secgroups.json"
"$NEUTRINO" demo up --state "$STATE" --prefix "$PFX" >/dev/null || fail "sandbox up"
MAPS=$(echo /sys/fs/bpf/neutrino/"$PFX"/abi*/maps)  # the one ABI version pinned
[ -e "$MAPS/nt_mon_config" ] || fail "no pinned nt_mon_config under $MAPS"

# The monitor switch as the datapath reads it: nt_mon_config[0].owner.
mon_owner() {
  bpftool map lookup pinned "$MAPS/nt_mon_config" key 0 0 0 0 -j | python3 -c '
import json, sys
v = json.load(sys.stdin)
v = v.get("formatted", v)["value"]
print(v["owner"] if isinstance(v, dict) else int.from_bytes(bytes(int(b, 16) for b in v[:4]), "little"))'
}
# Emitted + suppressed + lost so far, summed over CPUs (nt_mon_state[0]).
mon_work() {
  bpftool map lookup pinned "$MAPS/nt_mon_state" key 0 0 0 0 -j | python3 -c '
import json, sys
v = json.load(sys.stdin)
vals = v.get("formatted", v)["values"]
print(sum(c["value"]["emitted"] + c["value"]["suppressed"] + c["value"]["lost"] for c in vals))'
}
# Starts a monitor in the background (no subshell: $MON_PID is neutrino's own
# pid), stdout to $1, stderr to $1.err; waits until the datapath switch is on.
start_monitor() {  # out args...
  local out=$1; shift
  "$NEUTRINO" --instance "$PFX" --netns "$PFX-host" monitor "$@" >"$out" 2>"$out.err" &
  MON_PID=$!
  NT_PIDS+=("$MON_PID")
  for _ in $(seq 1 50); do
    [ "$(mon_owner)" = "$MON_PID" ] && return 0
    kill -0 "$MON_PID" 2>/dev/null || fail "monitor exited early: $(cat "$out.err")"
    sleep 0.1
  done
  fail "monitor $MON_PID never turned the datapath's events on (owner $(mon_owner))"
}
# Waits (bounded) for the monitor to exit by itself; fails on a non-zero exit.
wait_monitor() {
  local rc=0
  for _ in $(seq 1 100); do
    kill -0 "$MON_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$MON_PID" 2>/dev/null && fail "monitor $MON_PID still running"
  wait "$MON_PID" || rc=$?
  [ "$rc" -eq 0 ] || fail "monitor exited with $rc: $(cat "$1.err")"
  [ "$(mon_owner)" = 0 ] || fail "monitor exited but left the datapath's events on (owner $(mon_owner))"
}
mac() { vm_mac "$1"; }
spoof() {  # vm src-ip dst-ip dport [count [seconds]]
  in_ns "$1" python3 "$HELPERS/raw_send.py" eth0 "$(mac "$1")" "$(mac server)" "$2" "$3" "$4" "${5:-1}" "${6:-0}" \
    || fail "raw send from $1"
}
field_of() {  # file key: the key of every JSON line, one per line
  python3 -c '
import json, sys
for line in open(sys.argv[1]):
    print(json.loads(line).get(sys.argv[2], ""))' "$1" "$2"
}
summary() {  # file.err key: from the JSON summary on stderr
  python3 -c '
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("{"):
        print(json.loads(line)["summary"][sys.argv[2]])' "$1" "$2"
}

[ "$(mon_owner)" = 0 ] || fail "events on before any monitor ran"
spoof client 10.1.0.199 10.1.0.10 22
[ "$(mon_work)" = 0 ] || fail "the datapath did event work with no monitor running"
pass "no monitor: the switch is off and drops cause no event work"

# --- one drop: event fields and a pcap tcpdump reads ---------------------------
OUT="$NT_TMP/one.json"
start_monitor "$OUT" -o json --reason spoofed-ip --count 1 --duration 20 --pcap "$NT_TMP/drop.pcap"
spoof client 10.1.0.200 10.1.0.10 22
wait_monitor "$OUT"
[ "$(wc -l <"$OUT")" -eq 1 ] || fail "expected one event line: $(cat "$OUT")"
python3 - "$OUT" <<'PY' || fail "event fields: $(cat "$OUT")"
import json, sys
e = json.loads(open(sys.argv[1]).readline())
want = {"kind": "drop", "reason": "spoofed-ip", "port_name": "client", "src": "10.1.0.200",
        "dst": "10.1.0.10", "proto": "udp", "sport": 40000, "dport": 22, "hook": "tc"}
bad = {k: (e.get(k), v) for k, v in want.items() if e.get(k) != v}
assert not bad, bad
assert e["captured"] == e["len"] > 42, e
PY
dump=$(tcpdump -r "$NT_TMP/drop.pcap" -n 2>/dev/null) || fail "tcpdump -r cannot read the monitor's pcap"
[ "$(wc -l <<<"$dump")" -eq 1 ] || fail "pcap holds not exactly one packet: $dump"
grep -q "10.1.0.200.40000 > 10.1.0.10.22: UDP" <<<"$dump" || fail "pcap does not show the dropped packet: $dump"
pass "a spoofed packet: one event (spoofed-ip, port client, 5-tuple) and tcpdump -r shows it: $dump"

# The same event as text.
OUT="$NT_TMP/text.txt"
start_monitor "$OUT" --count 1 --duration 20
spoof client 10.1.0.201 10.1.0.10 23
wait_monitor "$OUT"
grep -Eq "^20[0-9-]+T[0-9:.]+Z drop spoofed-ip port client \(.*\) net .* udp 10.1.0.201:40000 -> 10.1.0.10:23 len " "$OUT" \
  || fail "text event: $(cat "$OUT")"
pass "text output: $(cat "$OUT")"

# --- filters: port and address (here), reason (in the datapath) ---------------------
OUT="$NT_TMP/filter.json"
start_monitor "$OUT" -o json --port client --addr 10.1.0.210/31 --count 1 --duration 20
spoof client2 10.1.0.210 10.1.0.10 22   # another port
spoof client 10.1.0.220 10.1.0.10 22    # another address
spoof client 10.1.0.211 10.1.0.10 22    # this one
wait_monitor "$OUT"
[ "$(field_of "$OUT" src)" = 10.1.0.211 ] || fail "port/address filter let through: $(cat "$OUT")"
[ "$(field_of "$OUT" port_name)" = client ] || fail "port filter: $(cat "$OUT")"
pass "--port and --addr: only client's packet from 10.1.0.211 of three"

OUT="$NT_TMP/reason.json"
start_monitor "$OUT" -o json --reason sg-no-match --count 1 --duration 20
spoof client 10.1.0.230 10.1.0.10 22    # spoofed-ip: not wanted
in_ns client nc -z -w 1 10.1.0.10 23 >/dev/null 2>&1 && fail "tcp/23 got through (no rule allows it)"
wait_monitor "$OUT"
[ "$(field_of "$OUT" reason)" = sg-no-match ] || fail "reason filter: $(cat "$OUT")"
[ "$(field_of "$OUT" dport)" = 23 ] || fail "sg-no-match event is not the tcp/23 attempt: $(cat "$OUT")"
[ "$(summary "$OUT.err" suppressed)" = 0 ] || fail "filtered drops counted as suppressed: $(cat "$OUT.err")"
pass "--reason sg-no-match: the refused tcp/23 connection, not the spoofed packet"

# --- the rate limit under a bounded flood ----------------------------------------------
# 3000 spoofed packets spread over 2 s (1500/s) against a limit of 50/s. The
# monitor outlives the flood (a slow guest may stretch it); events can only
# come while the flood lasts, so the bound is taken over the flood's time.
FLOOD=3000 SPREAD=2 RATE=50 BURST=10
OUT="$NT_TMP/flood.json"
before=$(drop_count spoofed-ip)
start_monitor "$OUT" -o json --reason spoofed-ip --rate $RATE --burst $BURST --duration 12
t0=$(date +%s.%N)
spoof client 10.1.0.240 10.1.0.10 22 $FLOOD $SPREAD
t1=$(date +%s.%N)
kill -0 "$MON_PID" 2>/dev/null || fail "the flood outlasted the monitor's --duration ($(python3 -c "print($t1 - $t0)") s)"
wait_monitor "$OUT"
dropped=$(( $(drop_count spoofed-ip) - before ))
[ "$dropped" -eq $FLOOD ] || fail "flood: $dropped of $FLOOD counted as spoofed-ip"
shown=$(wc -l <"$OUT")
emitted=$(summary "$OUT.err" emitted) suppressed=$(summary "$OUT.err" suppressed) lost=$(summary "$OUT.err" lost)
[ $((emitted + suppressed + lost)) -eq $FLOOD ] \
  || fail "emitted $emitted + suppressed $suppressed + lost $lost != $FLOOD drops"
# The limit: the burst at once, then the rate (per CPU: shares of both,
# rounded up, hence + CPUs).
secs=$(python3 -c "print(round($t1 - $t0, 3))")
bound=$(python3 -c "import math; print(math.ceil($RATE * $secs) + $BURST + $(nproc))")
[ "$emitted" -le "$bound" ] || fail "rate limit: $emitted events in a ${secs}s flood at $RATE/s burst $BURST (bound $bound)"
# ... and the buckets refill: a flood from one sender may meet one CPU's
# bucket only (RATE/CPUs per second), which over SPREAD seconds still lets
# through far more than a burst share (80%: timing slack).
floor=$(python3 -c "print(int(0.8 * $RATE / $(nproc) * $SPREAD))")
[ "$emitted" -ge "$floor" ] || fail "only $emitted events over a ${SPREAD}s flood at $RATE/s (want >= $floor): no refill"
[ "$shown" -eq "$emitted" ] || fail "shown $shown != emitted $emitted (no --addr filter, so every event is shown)"
[ "$lost" -eq 0 ] || fail "$lost events lost: the ring buffer overflowed at $RATE/s"
pass "flood of $FLOOD in ${secs}s: $emitted events (bound $bound), $suppressed suppressed, all $FLOOD counted as drops"

# --- signals end a monitor and turn the events off --------------------------------------
for sig in INT TERM; do
  OUT="$NT_TMP/sig$sig.txt"
  start_monitor "$OUT" --duration 60
  kill -s "$sig" "$MON_PID"
  wait_monitor "$OUT"
  grep -q "events shown" "$OUT.err" || fail "no summary after SIG$sig: $(cat "$OUT.err")"
done
# --duration in the foreground (a slow guest may end a 1 s monitor before a
# poll of the switch would see it on).
timeout 30 "$NEUTRINO" --instance "$PFX" monitor --duration 1 >/dev/null 2>"$NT_TMP/dur.err" \
  || fail "monitor --duration 1: $(cat "$NT_TMP/dur.err")"
grep -q "events shown" "$NT_TMP/dur.err" || fail "no summary after --duration: $(cat "$NT_TMP/dur.err")"
[ "$(mon_owner)" = 0 ] || fail "--duration ended but left the events on (owner $(mon_owner))"
work=$(mon_work)
spoof client 10.1.0.250 10.1.0.10 22
[ "$(mon_work)" = "$work" ] || fail "event work after the monitor exited"
pass "SIGINT, SIGTERM and --duration end the monitor; afterwards drops cause no event work"

# A second monitor is refused while one runs; the first keeps its switch.
start_monitor "$NT_TMP/first.txt" --duration 20
first=$MON_PID
if "$NEUTRINO" --instance "$PFX" monitor --duration 1 >/dev/null 2>"$NT_TMP/second.err"; then
  fail "a second monitor started while $first runs"
fi
grep -q "another monitor (pid $first)" "$NT_TMP/second.err" || fail "second monitor: $(cat "$NT_TMP/second.err")"
[ "$(mon_owner)" = "$first" ] || fail "the refused monitor changed the switch"
kill -s INT "$first"
wait_monitor "$NT_TMP/first.txt"
pass "one monitor at a time: a second is refused and leaves the first's switch alone"

# A monitor killed with SIGKILL cannot clear the switch: the next one takes
# over, and what the datapath emitted meanwhile is not shown as new.
start_monitor "$NT_TMP/killed.txt" --duration 20
killed=$MON_PID
kill -s KILL "$killed"
wait "$killed" 2>/dev/null || true
[ "$(mon_owner)" = "$killed" ] || fail "expected the killed monitor's pid to stay behind (owner $(mon_owner))"
spoof client 10.1.0.251 10.1.0.10 22      # emitted into a ring buffer nobody reads
OUT="$NT_TMP/takeover.json"
start_monitor "$OUT" -o json --count 1 --duration 20
spoof client 10.1.0.252 10.1.0.10 22
wait_monitor "$OUT"
[ "$(field_of "$OUT" src)" = 10.1.0.252 ] || fail "after a takeover: $(cat "$OUT")"
grep -q "taking over the monitor switch from pid $killed" "$OUT.err" || fail "no takeover warning: $(cat "$OUT.err")"
pass "a SIGKILLed monitor's switch is taken over by the next, its unread event discarded"
