#!/bin/bash
# refresh.sh — after new training (gpu_train.sh's files, or any final.pt): converts the
# checkpoint into the shipped weights, remakes the default-model test fixture and the sample
# grids, and prints the numbers the README quotes. Run from anywhere, on the development
# machine (Debian's /usr/bin/python3 with torch 1.13):
#
#   weights/twemoji/refresh.sh [options] CHECKPOINT BUILD_DIR
#
# CHECKPOINT: a checkpoint file (final.pt, final-slim.pt), or the folder gpu_train.sh filled
#   ($OUT as it came back): final.pt.part-* are joined and checked against SHA256SUMS, and
#   final-slim.pt is used where the parts are missing or do not match.
# BUILD_DIR: a meson build of this repository (converters/convert-weights, samples/sample).
#
# Without --out-dir it writes into the repository:
#   weights/twemoji/runs/final.pt and runs/ckpt.pt  (from a folder with a full checkpoint;
#       the previous ones are kept once as runs/*-before-refresh.pt), runs/loss.tsv and
#       runs/train.log (the returned copies when they extend ours, else appended)
#   weights/twemoji/twemoji-f16.bin                  (convert.sh)
#   tests/fixtures/default_model/ddim20-seed1000.f32 (sample_ref.py, seeds 1000-1001, as
#       test_default_model.c's GOLDEN_N = 2 reads it)
#   samples/grids/*.png                              (make_grids.sh, after ninja re-embeds)
#   weights/twemoji/loss.tsv                         (the README's copy of runs/loss.tsv)
# then runs `meson test --suite default_model`. With --out-dir DIR (or --dry-run: a fresh
# temporary DIR) the same files go under DIR instead and the repository is not touched: the
# grids are drawn with `sample --weights DIR/twemoji-f16.bin`, and the golden test's
# comparison is done here against DIR's fixture.
#
# Options: --out-dir DIR, --dry-run, --no-ddpm (skip the 9-minute DDPM-1000 grid),
#          --no-grids, --no-test (with both, no ninja either: the files only).
set -euo pipefail

py=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
outdir="" ddpm=1 grids=1 runtest=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out-dir) outdir="$2"; shift 2 ;;
    --dry-run) outdir=$(mktemp -d /tmp/refresh-XXXXXX); shift ;;
    --no-ddpm) ddpm=0; shift ;;
    --no-grids) grids=0; shift ;;
    --no-test) runtest=0; shift ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    -*) echo "refresh.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || { echo "usage: refresh.sh [--out-dir DIR|--dry-run] [--no-ddpm] [--no-grids] [--no-test] CHECKPOINT BUILD_DIR" >&2; exit 2; }
src=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
build=$(cd "$2" && pwd)
[ -x "$build/converters/convert-weights" ] || { echo "refresh.sh: no $build/converters/convert-weights" >&2; exit 2; }
[ -x "$build/samples/sample/sample" ] || { echo "refresh.sh: no $build/samples/sample/sample" >&2; exit 2; }

if [ -n "$outdir" ]; then
  mkdir -p "$outdir"
  outdir=$(cd "$outdir" && pwd)
  runs="$outdir/runs" bin="$outdir/twemoji-f16.bin" fixture="$outdir/ddim20-seed1000.f32"
  loss_copy="$outdir/loss.tsv"
  echo "== refresh.sh: writing under $outdir (the repository is not touched)"
else
  runs="$here/runs" bin="$here/twemoji-f16.bin"
  fixture="$root/tests/fixtures/default_model/ddim20-seed1000.f32" loss_copy="$here/loss.tsv"
fi
mkdir -p "$runs"

# ---- 1. the checkpoint ------------------------------------------------------------------
ck=""
if [ -d "$src" ]; then
  echo "== checkpoint folder $src"
  if [ -f "$src/final.pt" ]; then
    full="$src/final.pt"
  elif ls "$src"/final.pt.part-* > /dev/null 2>&1; then
    full="$runs/final.pt.joined"
    cat "$src"/final.pt.part-* > "$full"
  else
    full=""
  fi
  if [ -n "$full" ] && [ -f "$src/SHA256SUMS" ]; then
    want=$(awk '$2 == "final.pt" { print $1 }' "$src/SHA256SUMS")
    got=$(sha256sum < "$full" | cut -d' ' -f1)
    if [ "$want" != "$got" ]; then
      echo "refresh.sh: WARNING final.pt does not match SHA256SUMS ($got vs $want): not installed" >&2
      full=""
    fi
  fi
  if [ -n "$full" ]; then
    for f in final ckpt; do
      if [ -f "$runs/$f.pt" ] && [ ! -f "$runs/$f-before-refresh.pt" ]; then
        cp -p "$runs/$f.pt" "$runs/$f-before-refresh.pt"
      fi
    done
    if [ "$full" = "$runs/final.pt.joined" ]; then mv "$full" "$runs/final.pt"; else cp "$full" "$runs/final.pt"; fi
    cp "$runs/final.pt" "$runs/ckpt.pt"
    ck="$runs/final.pt"
    echo "installed the full checkpoint as $runs/final.pt and $runs/ckpt.pt (resumable)"
  elif [ -f "$src/final-slim.pt" ]; then
    # named final.pt, as the converter records the file name in the weights' metadata
    mkdir -p "$runs/slim"
    cp "$src/final-slim.pt" "$runs/slim/final.pt"
    ck="$runs/slim/final.pt"
    echo "refresh.sh: no full checkpoint: converting final-slim.pt (runs/ckpt.pt left as it was)" >&2
  else
    echo "refresh.sh: no final.pt, final.pt.part-* or final-slim.pt in $src" >&2; exit 2
  fi
  # Logs: take the returned copy when it extends ours (it was carried along), else append it.
  for f in loss.tsv train.log; do
    [ -f "$src/$f" ] || continue
    if [ ! -f "$runs/$f" ] && [ -f "$here/runs/$f" ]; then cp "$here/runs/$f" "$runs/$f"; fi
    if [ -f "$runs/$f" ] && head -c "$(wc -c < "$runs/$f")" "$src/$f" | cmp -s - "$runs/$f"; then
      cp "$src/$f" "$runs/$f"      # ours, continued
    else
      cat "$src/$f" >> "$runs/$f"  # this run's lines only
    fi
  done
else
  ck="$src"
fi
step=$("$py" -c "import torch; print(torch.load('$ck', map_location='cpu')['step'])")
echo "checkpoint: $ck (step $step)"

# ---- 2. weights -------------------------------------------------------------------------
echo "== convert.sh -> $bin"
"$here/convert.sh" "$build" "$ck" "$bin"

# ---- 3. golden fixture (tests/default_model: DDIM 20, seeds 1000..1001) -----------------
echo "== sample_ref.py -> $fixture"
"$py" "$here/sample_ref.py" "$ck" --steps 20 --seed 1000 -n 2 --faults -o "$fixture"

# ---- 4. re-embed and test ---------------------------------------------------------------
sample="$build/samples/sample/sample"
if [ -z "$outdir" ]; then
  if [ "$runtest" = 1 ] || [ "$grids" = 1 ]; then
    echo "== ninja -C $build (re-embeds twemoji-f16.bin)"
    ninja -C "$build" -j2
  fi
  if [ "$runtest" = 1 ]; then
    meson test -C "$build" --suite default_model --print-errorlogs -v 2>&1 | tail -n 80
  fi
elif [ "$runtest" = 1 ]; then
  echo "== golden check: sample --weights $bin against $fixture"
  "$sample" --weights "$bin" --sampler ddim --steps 20 --seed 1000 -n 2 --threads 2 -q \
    --out-raw "$outdir/golden.f32"
  "$py" - "$outdir/golden.f32" "$fixture" <<'EOF'
import sys
import numpy as np
a, b = (np.fromfile(p, dtype="<f4").astype(np.float64).reshape(2, -1) for p in sys.argv[1:3])
ok = True
for i in range(2):
    rel = np.linalg.norm(a[i] - b[i]) / np.linalg.norm(b[i])
    mx = np.abs(a[i] - b[i]).max()
    ok &= rel < 1e-4 and mx < 1e-3
    print("seed %d: rel L2 %.3g, max abs %.3g (tolerance 1e-4, 1e-3)" % (1000 + i, rel, mx))
sys.exit(0 if ok else 1)
EOF
fi
"$build/converters/convert-weights" --info "$bin" | sed -n '1,3p'
grep -a -o 'training=[[:print:]]*' "$bin" || true

# ---- 5. grids ---------------------------------------------------------------------------
if [ "$grids" = 1 ]; then
  if [ -z "$outdir" ]; then
    echo "== make_grids.sh $build (DDPM=$ddpm)"
    DDPM=$ddpm "$here/make_grids.sh" "$build"
  else
    # make_grids.sh writes to <its folder>/../../samples/grids and runs BUILD/samples/sample/sample:
    # run a copy of it from DIR/weights/twemoji with a sample that adds --weights.
    mkdir -p "$outdir/weights/twemoji" "$outdir/fakebuild/samples/sample"
    cp "$here/make_grids.sh" "$outdir/weights/twemoji/"
    printf '#!/bin/sh\nexec "%s" --weights "%s" "$@"\n' "$sample" "$bin" > "$outdir/fakebuild/samples/sample/sample"
    chmod +x "$outdir/fakebuild/samples/sample/sample"
    echo "== make_grids.sh -> $outdir/samples/grids (DDPM=$ddpm)"
    DDPM=$ddpm sh "$outdir/weights/twemoji/make_grids.sh" "$outdir/fakebuild"
  fi
fi

# ---- 6. the README's copy of the loss log, and the numbers ------------------------------
if [ -n "$outdir" ] && [ ! -f "$runs/loss.tsv" ] && [ -f "$here/runs/loss.tsv" ]; then
  cp "$here/runs/loss.tsv" "$runs/loss.tsv"
fi
if [ -f "$runs/loss.tsv" ]; then
  "$py" - "$runs/loss.tsv" "$loss_copy" "$ck" "$here/loss.tsv" <<'EOF'
import re
import sys
import torch
src, dst, ck_path, old_copy = sys.argv[1:5]
rows = [l.split("\t") for l in open(src) if l.strip() and not l.startswith("#")]
rows = [(int(r[0]), float(r[1]), float(r[2]), float(r[3])) for r in rows]
ck = torch.load(ck_path, map_location="cpu")
hist = ck.get("history") or []
# Resume points: those the old copy's header names (before train.py kept a history), and
# the start of every recorded run after the first.
try:
    head = open(old_copy).readline()
except OSError:
    head = ""
m = re.search(r"resumed at steps? ([0-9, and]+)", head)
resumes = set(int(x) for x in re.findall(r"[0-9]+", m.group(1))) if m else set()
resumes |= set(h["from_step"] for h in hist if h["from_step"] > 0)
devs = "; ".join("steps %d-%d on %s, torch %s" % (h["from_step"], h["to_step"], h["device"], h["torch"])
                 for h in hist if "note" not in h)
with open(dst, "w") as f:
    f.write("# step\tmean_loss_over_100_steps\ts_per_step\tseconds_since_run_start (the run was resumed "
            "at step%s %s%s)\n" % ("s" if len(resumes) > 1 else "", ", ".join(str(r) for r in sorted(resumes)) or "-",
                                   "; " + devs if devs else ""))
    for r in rows:
        f.write("%d\t%.6f\t%.3f\t%.1f\n" % r)
print("== numbers for the README")
print("step %d; %.1f min of training in total (train_seconds)" % (ck["step"], ck.get("train_seconds", 0) / 60))
for h in hist:
    n = h["to_step"] - h["from_step"]
    print("  %s" % ", ".join("%s %s" % (k, v) for k, v in h.items()),
          "-> %.2f steps/s" % (n / h["train_seconds"]) if h.get("train_seconds") else "")
last = rows[-5:]
print("loss: last row (step %d) %.4f; mean over the last %d rows (steps %d-%d) %.4f" % (
    rows[-1][0], rows[-1][1], len(last), last[0][0] - 99, last[-1][0], sum(r[1] for r in last) / len(last)))
marks = [m for m in (100, 400, 1000, 2000, 3000, 5000, 10000, 20000, 30000, 40000, 50000, 75000, 100000)
         if m <= rows[-1][0]]
by = {r[0]: r[1] for r in rows}
print("loss at " + ", ".join("%d: %.4f" % (m, by[m]) for m in marks if m in by))
gpu = [r for r in rows if r[2] < 0.2]
if gpu:
    print("GPU rows: %d, median %.4f s/step = %.1f steps/s" % (
        len(gpu), sorted(r[2] for r in gpu)[len(gpu) // 2], 1 / sorted(r[2] for r in gpu)[len(gpu) // 2]))
EOF
else
  echo "refresh.sh: no $runs/loss.tsv: loss numbers not printed" >&2
fi
ls -l "$bin" "$fixture"
echo "== refresh.sh done (step $step)${outdir:+; outputs under $outdir}"
