#!/usr/bin/env bash
# The project's virtual environment (.venv), made usable before every make target that needs it.
#
#   bash scripts/ensure-venv.sh            # PYTHON=python3 VENV=.venv by default
#
# - checks that $PYTHON is a supported Python (3.11.2 up to 3.13) with venv/ensurepip;
# - recreates .venv, saying why, when it is broken or foreign: no Python or a Python that does
#   not run, no pip, another Python minor version than $PYTHON, or made for another folder
#   (a copied or moved .venv: its scripts point at another checkout's interpreter, or its
#   plusdig is another checkout's);
# - installs the pins (requirements.txt, the library editable) when .venv is new or the pins
#   changed since the last install (the stamp .venv/.installed);
# - never leaves a half-made .venv behind: a failed creation is removed again.
set -euo pipefail
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
STAMP=${STAMP:-$VENV/.installed}
ROOT=$(pwd -P)
case "$VENV" in /*) VENV_ABS=$VENV ;; *) VENV_ABS=$ROOT/$VENV ;; esac
PIP_VERSION=${PIP_VERSION:-26.3}   # pip itself, pinned like everything else

say() { echo "venv: $*" >&2; }

# ----------------------------------------------------------------------------- the Python
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  say "'$PYTHON' findes ikke. Installér Python 3.11.2–3.13 (Debian/Ubuntu: apt-get install python3 python3-venv)."
  exit 1
fi
# One start of $PYTHON (this runs before every make target): a supported version (else exit 3),
# with venv and ensurepip (else 4); it prints its minor version.
rc=0
want_minor=$("$PYTHON" -c 'import sys
if not (3, 11, 2) <= sys.version_info[:3] < (3, 14):
    sys.exit(3)
try:
    import ensurepip, venv
except ImportError:
    sys.exit(4)
print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || rc=$?
if [ "$rc" = 4 ]; then
  say "$PYTHON mangler venv/ensurepip. Debian/Ubuntu: apt-get install python3-venv"
  exit 1
elif [ "$rc" != 0 ]; then
  say "$("$PYTHON" --version 2>&1) er ikke understøttet: bogen kræver Python 3.11.2–3.13 (sæt PYTHON=... til en anden)."
  exit 1
fi

# ----------------------------------------------------------------------------- is .venv sound?
problem=""
if [ -e "$VENV" ] || [ -L "$VENV" ]; then
  if [ ! -f "$VENV/pyvenv.cfg" ]; then
    problem="it is not a virtual environment (no pyvenv.cfg)"
  elif [ ! -x "$VENV/bin/python" ]; then
    problem="it has no $VENV/bin/python"
  # one start of its Python: its minor version, whether it has pip, where its plusdig is
  elif ! info=$("$VENV/bin/python" -c 'import importlib.util, os, sys
print("%d.%d" % sys.version_info[:2])
print("pip" if importlib.util.find_spec("pip") else "")
try:
    import plusdig
    print(os.path.realpath(plusdig.__file__))
except Exception:
    print("")' 2>/dev/null); then
    problem="its Python does not run"
  else
    { read -r have_minor; read -r has_pip; read -r where; } <<<"$info" || true
    if [ -z "$has_pip" ]; then
      problem="it has no pip"
    elif [ "$have_minor" != "$want_minor" ]; then
      problem="it was made with Python $have_minor, not $want_minor ($PYTHON)"
    elif [ -f "$VENV/bin/pip" ] && ! head -n3 "$VENV/bin/pip" | grep -qF "$VENV_ABS/bin/python"; then
      problem="it was made for another folder ($(head -n1 "$VENV/bin/pip" | cut -c3-))"
    elif [ -f "$STAMP" ] && [ -d "$ROOT/lib/plusdig" ] && [ "$VENV_ABS" = "$ROOT/${VENV#./}" ]; then
      # the checkout's own .venv must hold this checkout's library (an outside VENV=... is the
      # caller's choice, e.g. the tests' shared environment)
      case "$where" in
        "$ROOT"/lib/plusdig/*) ;;
        "") problem="the book's library (plusdig) is not installed in it" ;;
        *) problem="its plusdig is another checkout's ($where)" ;;
      esac
    fi
  fi
fi
if [ -n "$problem" ]; then
  say "$VENV is unusable: $problem. Recreating it."
  rm -rf "$VENV"
fi

# ----------------------------------------------------------------------------- create, install
if [ ! -e "$VENV" ]; then
  say "creating $VENV with $("$PYTHON" --version 2>&1)"
  if ! "$PYTHON" -m venv "$VENV"; then
    rm -rf "$VENV"
    say "could not create $VENV (Debian/Ubuntu: apt-get install python3-venv)"
    exit 1
  fi
fi
if [ ! -f "$STAMP" ] || [ requirements.txt -nt "$STAMP" ] || [ pyproject.toml -nt "$STAMP" ]; then
  say "installing the pinned packages (requirements.txt)"
  if [ "$("$VENV/bin/python" -m pip --version | cut -d' ' -f2)" != "$PIP_VERSION" ]; then
    "$VENV/bin/python" -m pip install --quiet "pip==$PIP_VERSION"
  fi
  "$VENV/bin/python" -m pip install --quiet -r requirements.txt
  touch "$STAMP"
fi
