#!/usr/bin/env bash
# The fresh-machine check (make fresh-check): does the README's set-up work on a bare Debian 12?
#
#   sudo bash scripts/fresh-machine.sh [--only readme|ci] [--keep]
#
# 1. debootstrap bookworm (Debian 12, the standard variant) into a temporary folder, with this
#    machine's apt, pip and npm configuration copied in, so it reaches the same registries;
# 2. "readme": installs only the README's prerequisites, clones the committed checkout
#    (HEAD, as CI does), and runs the README's two commands: `make book`, then `make test`;
# 3. "ci": in a second bare copy, with nothing installed first, runs `bash .ci/run` (CI=true);
# 4. prints each step's result and time and writes them to docs/fresh-machine.md (with the
#    commit checked); the mounts and the temporary folder are removed at the end, also after a
#    failure or Ctrl-C (--keep leaves the folder for inspection, unmounted).
#
# It needs root (debootstrap, chroot, mounts) and the network to the package registries.
# Exit status: 0 when every step passed.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd -P)
SHARED=${PLUSDIG_SHARED:-$(cd "$REPO/.." && pwd -P)/shared}
ONLY=""
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --only) ONLY=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    *) echo "fresh-machine: unknown argument $1 (use --only readme|ci, --keep)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "fresh-machine: needs root (debootstrap, chroot, mount)" >&2; exit 1; }
[ -f "$SHARED/source/plusdig-aktivitetskatalog.txt" ] || {
  echo "fresh-machine: the source text is missing: $SHARED/source/plusdig-aktivitetskatalog.txt (set PLUSDIG_SHARED)" >&2
  exit 1; }
SHARED=$(cd "$SHARED" && pwd -P)   # a link to it is copied as what it points at
COMMIT=$(git -C "$REPO" rev-parse HEAD)
if [ -n "$(git -C "$REPO" status --porcelain --untracked-files=no)" ]; then
  echo "fresh-machine: note: uncommitted changes are not checked (the check clones HEAD $COMMIT)" >&2
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "fresh-machine: installing debootstrap on this machine"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null; }
fi

WORK=$(mktemp -d /var/tmp/plusdig-fresh.XXXXXX)
LOGS=$WORK/logs
mkdir -p "$LOGS"
MOUNTED=()
unmount_all() {
  local i
  for ((i=${#MOUNTED[@]}-1; i>=0; i--)); do umount -l "${MOUNTED[i]}" 2>/dev/null || true; done
  MOUNTED=()
}
cleanup() {
  unmount_all
  if [ "$KEEP" = 1 ]; then echo "fresh-machine: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The Debian mirror this machine uses (deb822 .sources or a classic sources.list line).
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 || true)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

logname() { local n=${1//\//-}; echo "${n// /-}"; }   # a step's log file name
RESULTS=()   # "part|step|result|seconds"; PART is the part being run (readme, ci)
PART=""
record() { RESULTS+=("$PART|$1|$2|$3"); printf 'fresh-machine: %-28s %-6s %5ss\n' "$1" "$2" "$3"; }

make_system() {  # $1 = target folder: a bare Debian 12 with this machine's registry settings
  local root=$1
  debootstrap bookworm "$root" "$mirror" >"$LOGS/debootstrap-$(basename "$root").log" 2>&1
  # apt: the same sources and settings (mirrors, proxies, validity) as this machine
  rm -f "$root"/etc/apt/sources.list "$root"/etc/apt/sources.list.d/*
  [ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$root/etc/apt/"
  cp /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list "$root/etc/apt/sources.list.d/" 2>/dev/null || true
  cp /etc/apt/apt.conf.d/* "$root/etc/apt/apt.conf.d/" 2>/dev/null || true
  cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  # TLS: this machine's certificate authorities (a registry proxy may sign with its own): the
  # bundle now, and as a local authority that Debian's ca-certificates keeps when it installs
  mkdir -p "$root/usr/local/share/ca-certificates" "$root/etc/ssl/certs"
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/usr/local/share/ca-certificates/host-registries.crt"
  cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
  # pip and npm: the same configuration files (indexes, certificates, caps)
  for f in /etc/pip.conf /usr/etc/npmrc /etc/npmrc /root/.npmrc /root/.config/pip/pip.conf; do
    [ -f "$f" ] && { mkdir -p "$root$(dirname "$f")"; cp "$f" "$root$f"; }
  done
  [ -f /usr/etc/npmrc ] && cp /usr/etc/npmrc "$root/etc/npmrc"
  [ -d /etc/xdg/pip ] && { mkdir -p "$root/etc/xdg"; cp -r /etc/xdg/pip "$root/etc/xdg/"; }
  # the project: a clone of the committed checkout, and the shared source beside it, read-only
  mkdir -p "$root/work"
  git clone --quiet --no-hardlinks "$REPO" "$root/work/main"
  git -C "$root/work/main" checkout --quiet "$COMMIT"
  cp -r "$SHARED" "$root/work/shared"
  chmod -R a-w "$root/work/shared"
}

mount_system() {
  local root=$1
  mount -t proc proc "$root/proc"; MOUNTED+=("$root/proc")
  mount -t sysfs sys "$root/sys"; MOUNTED+=("$root/sys")
  mount --bind /dev "$root/dev"; MOUNTED+=("$root/dev")
  mount -t devpts devpts "$root/dev/pts" -o newinstance,ptmxmode=0666 2>/dev/null \
    || mount --bind /dev/pts "$root/dev/pts"
  MOUNTED+=("$root/dev/pts")
  mount -t tmpfs -o size=2g tmpfs "$root/dev/shm"; MOUNTED+=("$root/dev/shm")
}

in_system() {  # $1 = root, $2 = log name, $3... = command run by bash -c in /work/main
  local root=$1 log; log=$(logname "$2"); shift 2
  local env=(HOME=/root LANG=C.UTF-8 TERM=dumb
             PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
  local v
  for v in $(compgen -e | grep -E '^(PIP_|NPM_CONFIG_|http_proxy|https_proxy|no_proxy)' || true); do
    env+=("$v=${!v}")
  done
  chroot "$root" /usr/bin/env -i "${env[@]}" bash -c "cd /work/main && $*" >"$LOGS/$log.log" 2>&1
}

step() {  # $1 = root, $2 = step name, $3... = command
  local root=$1 name=$2; shift 2
  local t0=$SECONDS
  if in_system "$root" "$name" "$@"; then
    record "$name" passed $((SECONDS - t0))
  else
    record "$name" FAILED $((SECONDS - t0))
    echo "---- last lines of $name ----"; tail -n 40 "$LOGS/$(logname "$name").log"; echo "----"
    return 1
  fi
}

status=0
PREREQS="python3 python3-venv make git nodejs npm ca-certificates"
if [ "$ONLY" != ci ]; then
  PART=readme
  t0=$SECONDS; make_system "$WORK/readme"; record "debootstrap (readme)" done $((SECONDS - t0))
  mount_system "$WORK/readme"
  if step "$WORK/readme" "prerequisites" \
       "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq $PREREQS"; then
    step "$WORK/readme" "make book" "make book" && step "$WORK/readme" "make test" "make test" || status=1
    tail -n 3 "$LOGS/$(logname "make test").log" 2>/dev/null | sed 's/^/    /'
  else
    status=1
  fi
  unmount_all
  [ "$KEEP" = 1 ] || rm -rf "$WORK/readme"
fi
if [ "$ONLY" != readme ]; then
  PART=ci
  t0=$SECONDS; make_system "$WORK/ci"; record "debootstrap (ci)" done $((SECONDS - t0))
  mount_system "$WORK/ci"
  step "$WORK/ci" "bash .ci/run" "CI=true bash .ci/run" || status=1
  tail -n 3 "$LOGS/$(logname "bash .ci/run").log" 2>/dev/null | sed 's/^/    /'
  unmount_all
fi

# The record, kept under version control next to the benchmark: one section per part run
# ("readme", "ci"); a part not run this time keeps its section from an earlier run.
section() {  # $1 = part
  local part=$1 title r p a b c log summary
  [ "$part" = readme ] && title="The README's two commands, after only the prerequisites" \
                       || title="bash .ci/run, with nothing installed first"
  echo "## $title"
  echo
  echo "- commit: \`$COMMIT\`"
  echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "- machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB"
  echo "- result: $(part_status "$part")"
  echo
  echo "| step | result | time (s) |"
  echo "|---|---|---:|"
  for r in "${RESULTS[@]}"; do
    IFS='|' read -r p a b c <<<"$r"
    [ "$p" = "$part" ] && echo "| $a | $b | $c |"
  done
  # the test runner's closing line of the part's last step
  local last; last=$([ "$part" = readme ] && echo "make test" || echo "bash .ci/run")
  log=$LOGS/$(logname "$last").log
  if [ -f "$log" ]; then
    summary=$(grep -E '^=+ .*(passed|failed).* in ' "$log" | tail -n1 | tr -d '=' | sed 's/^ *//; s/ *$//')
    [ -n "$summary" ] && echo && echo "$last: $summary"
  fi
  echo
}
part_status() {  # passed unless a step of the part failed
  local r p a b c
  for r in "${RESULTS[@]}"; do
    IFS='|' read -r p a b c <<<"$r"
    [ "$p" = "$1" ] && [ "$b" = FAILED ] && { echo FAILED; return; }
  done
  echo passed
}
RECORD=$REPO/docs/fresh-machine.md
keep_section() {  # the part's section of the existing record, if any
  [ -f "$RECORD" ] || return 0
  awk -v h="$1" 'index($0, "## ") == 1 {on = (index($0, h) > 0)} on' "$RECORD"
}
{
  echo "# Fresh-machine check"
  echo
  echo "\`make fresh-check\` (\`scripts/fresh-machine.sh\`): a bare Debian 12 (debootstrap bookworm),"
  echo "with this machine's apt, pip and npm settings; the README's prerequisites"
  echo "(\`$PREREQS\`) for its two commands, nothing at all before \`bash .ci/run\`."
  echo
  if [ "$ONLY" != ci ]; then section readme; else keep_section "The README's two commands"; fi
  if [ "$ONLY" != readme ]; then section ci; else keep_section "bash .ci/run"; fi
} >"$RECORD.new"
mv "$RECORD.new" "$RECORD"
echo "fresh-machine: wrote $REPO/docs/fresh-machine.md"
exit $status
