#!/usr/bin/env bash
# Builds the jvirtio guest kit: a Debian cloud kernel plus a busybox initramfs for real-guest tests.
#
#   itests/guest/build-guest-kit.sh OUTDIR
#
# OUTDIR receives:
#   vmlinuz           the kernel of the package linux-image-cloud-amd64 depends on
#   initramfs.cpio.gz busybox-static, the virtio modules (flat, /lib/modules/*.ko), /init
#   modules.load      the modules /init insmods, in dependency order
#   kit.properties    written LAST; its presence (with this script's sha256) marks a complete kit
#
# Caching: if OUTDIR/kit.properties exists and names this script's sha256, nothing is done.
#
# Everything comes from Debian packages (apt-get download), nothing else is fetched.
# Host packages needed: apt (present on Debian), cpio, gzip, coreutils; busybox-static is used
# from the host if installed, otherwise downloaded too. Running the guests needs qemu-system-x86.
# If the apt lists are empty (fresh container), the script runs `apt-get update` once (root only).
#
# /init contract (see GuestKit/Guest in itests/src/test/java/org/jvirtio/itest/guest):
#   mounts proc, sys, devtmpfs, tmpfs /tmp; insmods the modules; prints JVIRTIO-GUEST-READY;
#   runs /test.sh (provided by a second, per-test cpio archive concatenated after this one) with
#   /bin/sh; prints JVIRTIO-TEST-EXIT=<status>; syncs and powers off (poweroff -f).
#
# Exit codes: 0 ok, 3 a host prerequisite is missing (message on stderr), other = failure.
set -euo pipefail

OUT="${1:?usage: $0 OUTDIR}"
SELF="$(readlink -f "$0")"
SELF_SHA="$(sha256sum "$SELF" | cut -d' ' -f1)"

# Virtio drivers the kit must provide (built in or module); dependencies are added automatically.
WANTED="virtio_pci virtio_mmio virtio_blk virtio_net virtio_console virtio_balloon"

log() { echo "build-guest-kit: $*" >&2; }
missing() { log "missing prerequisite: $*"; exit 3; }

if [[ -f "$OUT/kit.properties" ]] && grep -qx "script.sha256=$SELF_SHA" "$OUT/kit.properties" \
   && [[ -s "$OUT/vmlinuz" && -s "$OUT/initramfs.cpio.gz" ]]; then
  log "kit in $OUT is complete, nothing to do"
  exit 0
fi

for tool in apt-get apt-cache dpkg-deb cpio gzip sha256sum; do
  command -v "$tool" >/dev/null 2>&1 || missing "$tool (install: apt-get install -y cpio; Debian host required)"
done

mkdir -p "$OUT"
OUT="$(readlink -f "$OUT")"
rm -f "$OUT/kit.properties"
WORK="$(mktemp -d "$OUT/.work.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# apt-get download as root drops privileges to _apt when it can write the target directory
chmod 0777 "$WORK" 2>/dev/null || true

# ---- resolve the kernel package: linux-image-cloud-amd64 -> linux-image-<version>-cloud-amd64
resolve_kernel() {
  apt-cache depends linux-image-cloud-amd64 2>/dev/null \
    | sed -n 's/^ *Depends: *\(linux-image-[0-9][^ ]*-cloud-amd64\) *$/\1/p' | head -n1
}
KPKG="$(resolve_kernel || true)"
if [[ -z "$KPKG" ]]; then
  if [[ "$(id -u)" == 0 ]]; then
    log "apt lists do not know linux-image-cloud-amd64: running apt-get update once"
    apt-get update -q >&2
    KPKG="$(resolve_kernel || true)"
  fi
fi
[[ -n "$KPKG" ]] || missing "apt lists with linux-image-cloud-amd64 (run apt-get update as root)"
log "kernel package: $KPKG"

( cd "$WORK" && apt-get download -q "$KPKG" >&2 )
dpkg-deb -x "$WORK"/"$KPKG"_*.deb "$WORK/kernel"
VMLINUZ="$(ls "$WORK"/kernel/boot/vmlinuz-* | head -n1)"
KVER="${VMLINUZ##*/vmlinuz-}"
CONFIG="$WORK/kernel/boot/config-$KVER"
MODDIR="$WORK/kernel/lib/modules/$KVER"
[[ -f "$CONFIG" && -d "$MODDIR" ]] || { log "unexpected layout of $KPKG"; exit 1; }
log "kernel version: $KVER"

# ---- busybox-static: the host's if installed, else from the package
if dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed' && [[ -x /bin/busybox ]]; then
  BUSYBOX=/bin/busybox
  BB_VERSION="$(dpkg-query -W -f='${Version}' busybox-static)"
else
  log "busybox-static not installed on the host: downloading the package"
  ( cd "$WORK" && apt-get download -q busybox-static >&2 )
  dpkg-deb -x "$WORK"/busybox-static_*.deb "$WORK/bb"
  BUSYBOX="$WORK/bb/bin/busybox"
  BB_VERSION="$(dpkg-deb -f "$WORK"/busybox-static_*.deb Version)"
fi

# ---- modules: the package ships no modules.dep (depmod runs at install time), so the dependency
# graph comes from each module's own .modinfo "depends=" field (exactly what depmod reads).
declare -A MODPATH=()
while IFS= read -r -d '' ko; do
  name="$(basename "$ko" .ko)"; MODPATH["${name//-/_}"]="$ko"
done < <(find "$MODDIR/kernel" -name '*.ko' -print0)

modname_norm() { echo "${1//-/_}"; }
is_builtin() { grep -q "/$1\.ko\$" "$MODDIR/modules.builtin" 2>/dev/null \
               || grep -q "/${1//_/-}\.ko\$" "$MODDIR/modules.builtin" 2>/dev/null; }
mod_deps() { tr '\0' '\n' < "${MODPATH[$1]}" | sed -n 's/^depends=//p' | tr ',' ' '; }

declare -A STATE=()   # visiting | done
ORDER=()
: > "$WORK/modules.dep"
visit() {
  local m; m="$(modname_norm "$1")"
  [[ "${STATE[$m]:-}" == done ]] && return 0
  [[ "${STATE[$m]:-}" == visiting ]] && { log "module dependency cycle at $m"; exit 1; }
  if [[ -z "${MODPATH[$m]:-}" ]]; then
    if is_builtin "$m"; then log "$m: built in (=y)"; STATE[$m]=done; return 0; fi
    log "module $m neither built in nor in $KPKG"; exit 1
  fi
  STATE[$m]=visiting
  local deps d; deps="$(mod_deps "$m")"
  echo "$m.ko: $(for d in $deps; do printf '%s.ko ' "$(modname_norm "$d")"; done)" >> "$WORK/modules.dep"
  for d in $deps; do visit "$d"; done
  STATE[$m]=done
  ORDER+=("$m")
}
for m in $WANTED; do visit "$m"; done
log "modules in load order: ${ORDER[*]}"

# ---- the initramfs tree
R="$WORK/root"
mkdir -p "$R"/{bin,sbin,etc,proc,sys,dev,tmp,run,mnt,root,lib/modules,usr/bin,usr/sbin}
cp "$BUSYBOX" "$R/bin/busybox"
chmod 0755 "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
for m in "${ORDER[@]}"; do cp "${MODPATH[$m]}" "$R/lib/modules/$m.ko"; done
printf '%s\n' "${ORDER[@]}" > "$R/etc/modules.load"
cp "$WORK/modules.dep" "$R/lib/modules/modules.dep"
echo "$KVER" > "$R/etc/jvirtio-kernel"

cat > "$R/bin/waitfor" <<'EOF'
#!/bin/sh
# waitfor PATH [SECONDS]: wait until PATH exists (default 10 s); exit 1 on timeout
p="$1"; n=$(( ${2:-10} * 10 ))
while [ ! -e "$p" ]; do
  n=$((n - 1)); [ "$n" -le 0 ] && { echo "waitfor: $p did not appear" >&2; exit 1; }
  usleep 100000
done
EOF
chmod 0755 "$R/bin/waitfor"

cat > "$R/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
ip link set lo up 2>/dev/null
for m in $(cat /etc/modules.load); do
  insmod "/lib/modules/$m.ko" || echo "JVIRTIO-INIT: insmod $m failed"
done
echo "JVIRTIO-GUEST-READY kernel=$(uname -r)"
if [ -f /test.sh ]; then
  cd /root
  /bin/sh /test.sh </dev/null
  rc=$?
else
  echo "JVIRTIO-INIT: no /test.sh in the initramfs"
  rc=127
fi
sync
echo "JVIRTIO-TEST-EXIT=$rc"
poweroff -f
# not reached; if it were, init exiting panics the kernel and -no-reboot ends QEMU
sleep 5
EOF
chmod 0755 "$R/init"

( cd "$R" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet ) | gzip -9 -n > "$WORK/initramfs.cpio.gz"

cp "$VMLINUZ" "$WORK/vmlinuz"
mv -f "$WORK/vmlinuz" "$OUT/vmlinuz"
mv -f "$WORK/initramfs.cpio.gz" "$OUT/initramfs.cpio.gz"
printf '%s\n' "${ORDER[@]}" > "$OUT/modules.load"
cp "$WORK/modules.dep" "$OUT/modules.dep"
cp "$CONFIG" "$OUT/config"
{
  echo "# jvirtio guest kit, built by $SELF"
  echo "kernel.package=$KPKG"
  echo "kernel.version=$KVER"
  echo "busybox.version=$BB_VERSION"
  echo "modules=${ORDER[*]}"
  echo "script.sha256=$SELF_SHA"
} > "$OUT/kit.properties.tmp"
mv -f "$OUT/kit.properties.tmp" "$OUT/kit.properties"
log "kit ready in $OUT ($(du -sh "$OUT/initramfs.cpio.gz" | cut -f1) initramfs)"
