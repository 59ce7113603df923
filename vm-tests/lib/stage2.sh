# Stage 2, PID 1 in the guest, run by the host's /bin/bash on the overlay root.
# Mounts what a normal host has, makes the kernel's modules loadable on
# demand, runs the command in the caller's directory with the caller's
# environment, sends its output and exit status to the host over two virtio
# serial ports, and powers off.
# /run/vm-tests holds: stage2.sh (this), env.sh, cmd.sh, kernel.sh.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
VM=/run/vm-tests

say() { echo "vm-tests stage2: $*" >/dev/console; }
poweroff_now() {
  sync
  echo o > /proc/sysrq-trigger
  sleep 30
}

# Device node of the virtio serial port with this name (no udev here).
port() {
  local n
  for n in /sys/class/virtio-ports/*; do
    [ "$(cat "$n/name" 2>/dev/null)" = "$1" ] && { echo "/dev/${n##*/}"; return 0; }
  done
  return 1
}
OUT=$(port nt.out) || { say "no nt.out port"; poweroff_now; }
RC=$(port nt.rc) || { say "no nt.rc port"; poweroff_now; }

# Everything below reports to the output port, so a broken guest explains itself.
exec 1>"$OUT" 2>&1 </dev/null

setup() {
  mkdir -p /dev/pts /dev/shm
  mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
  mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
  mount -t tmpfs -o mode=1777,nosuid,nodev tmp /tmp
  mount -t bpf -o mode=0700 bpf /sys/fs/bpf
  mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null || true
  mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
  mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true
  mkdir -p /run/netns /run/lock /var/run 2>/dev/null || true
  ln -sfn /proc/self/fd /dev/fd; ln -sfn /proc/self/fd/0 /dev/stdin
  ln -sfn /proc/self/fd/1 /dev/stdout; ln -sfn /proc/self/fd/2 /dev/stderr

  # The unpacked module tree of this kernel, where modprobe looks for it.
  source "$VM/kernel.sh"   # NT_VM_MODULES: host path of lib/modules/<release>, or empty
  local rel; rel=$(uname -r)
  if [ -n "$NT_VM_MODULES" ] && [ "$NT_VM_MODULES" != "/lib/modules/$rel" ]; then
    mkdir -p "/lib/modules/$rel"
    mount --bind "$NT_VM_MODULES" "/lib/modules/$rel"
  fi
  echo "$(command -v modprobe)" > /proc/sys/kernel/modprobe

  hostname -F /etc/hostname 2>/dev/null || hostname neutrino-vm
  ip link set lo up 2>/dev/null || true
}
setup

# The caller's environment (selected), then its directory and command.
for v in $(compgen -e); do unset "$v"; done
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
source "$VM/env.sh"
export NT_VM_GUEST=1
source "$VM/cmd.sh"        # sets NT_VM_CWD and the positional parameters

echo "vm-tests: kernel $(uname -r)"
if cd "$NT_VM_CWD"; then
  "$@"
  rc=$?
else
  echo "vm-tests: the working directory $NT_VM_CWD is not visible in the guest" \
       "(/tmp, /run and /dev/shm are fresh tmpfs there)"
  rc=126
fi
echo "$rc" > "$RC"
poweroff_now
