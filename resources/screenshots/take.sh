#!/usr/bin/env bash
# Screenshots of the real app for the README, on a virtual X server.
# Needs Debian's xvfb, xdotool and imagemagick (apt-get install xvfb xdotool imagemagick
# libxcb-icccm4 libxcb-keysyms1). Run from the repository root after `make setup`:
#     resources/screenshots/take.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=resources/screenshots
GRADVIZ=${GRADVIZ:-.venv/bin/gradviz}
export DISPLAY=:93
Xvfb $DISPLAY -screen 0 1440x900x24 >/dev/null 2>&1 &
XVFB=$!
trap 'kill $XVFB' EXIT
sleep 1

shot() {  # [SHOT_ARGS="--lang zh_CN"] shot FILE OUT.png [xdotool keys | sleepN]...
  local file=$1 out=$2; shift 2
  local cfg; cfg=$(mktemp -d)
  GRADVIZ_CONFIG_DIR=$cfg $GRADVIZ ${SHOT_ARGS:-} "$file" >/dev/null 2>&1 &
  local pid=$!
  sleep 8
  xdotool windowfocus --sync "$(xdotool search --onlyvisible --name gradviz | head -1)"
  for k in "$@"; do
    if [[ $k == sleep* ]]; then sleep "${k#sleep}"; else xdotool key "$k"; sleep 0.5; fi
  done
  sleep 1.5
  import -window root "$OUT/$out"
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$cfg"
}

E=resources/examples
shot $E/01-two-x-squared.gradviz app-2xtx-step2.png alt+Home alt+Right alt+Right
shot $E/04-accumulation-and-zero-grad.gradviz app-accumulation-history.png
shot $E/05-retain-graph.gradviz app-second-backward-error.png
shot $E/07-fan-in.gradviz app-fan-in-dark.png alt+Home alt+Right alt+Right ctrl+shift+d
shot $E/08-mlp-training-loop.gradviz app-mlp-training.png
shot $E/08-mlp-training-loop.gradviz app-mlp-presentation.png ctrl+shift+p sleep2
shot $E/09-zero-grad-compare.gradviz app-compare-zero-grad.png sleep4
shot $E/d2l/en/07-second-derivative.gradviz app-second-derivative.png alt+Home alt+Right alt+Right alt+Right
SHOT_ARGS="--lang zh_CN" shot $E/d2l/zh_CN/01-dot-product.gradviz app-zh-d2l-dot-product.png alt+Home alt+Right alt+Right
SHOT_ARGS="--lang zh_CN" shot $E/d2l/zh_CN/10-compare-zero-grad.gradviz app-zh-compare-zero-grad.png sleep4
python3 - <<'PY' > /tmp/gradviz-transformer.py
import sys; sys.path.insert(0, "benchmarks"); import programs; print(programs.transformer(82))
PY
shot /tmp/gradviz-transformer.py app-transformer-5253-nodes.png sleep4 alt+Home alt+Right alt+Right alt+Right
