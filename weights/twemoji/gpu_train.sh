#!/bin/bash
# gpu_train.sh — continues the default model's training on a borrowed CUDA machine for a fixed
# wall-clock budget, resuming from weights/twemoji/runs/ckpt.pt, and leaves what comes back
# in $OUT. Run from the repository root, where python3 has PyTorch with CUDA (2.x is fine):
#
#   bash weights/twemoji/gpu_train.sh [MINUTES]      # default 6
#
# Needs (git-ignored, so carried along): weights/twemoji/data/twemoji32.pt and
# weights/twemoji/runs/ckpt.pt; runs/loss.tsv and runs/train.log too, so that they come back
# whole (without them they hold this run's lines only and refresh.sh appends them).
# MINUTES bounds train.py's whole process, final writes included; this script adds about
# 10-20 s (the CUDA check, splitting the checkpoint). Writes to $OUT (default
# weights/twemoji/runs/gpu-out), every file under 16 MiB:
#   final-slim.pt          final.pt without optimizer/RNG state: enough for convert.sh and
#                          sample_ref.py (keys model, ema, step, config, train_seconds, history)
#   final.pt.part-00, -01  the full final.pt (resumable), split; SHA256SUMS checks the join
#   loss.tsv, train.log    runs/loss.tsv and runs/train.log after this run
#   (final.pt itself instead of the slim copy and parts when it is under 16 MiB.)
# Exit status: 0 done; 2 files missing; 3 no CUDA; 4 training failed (what could be saved
# is still in $OUT: the last periodic checkpoint, slimmed and split).
set -u
minutes="${1:-6}"
py="${PYTHON:-python3}"
tw=weights/twemoji
runs="$tw/runs"
out="${OUT:-$runs/gpu-out}"
limit=16777216   # bytes per file that comes back

[ -f "$tw/train.py" ] || { echo "gpu_train.sh: run me from the repository root" >&2; exit 2; }
[ -f "$tw/data/twemoji32.pt" ] || { echo "gpu_train.sh: $tw/data/twemoji32.pt missing (carry it)" >&2; exit 2; }
[ -f "$runs/ckpt.pt" ] || { echo "gpu_train.sh: $runs/ckpt.pt missing (carry it); refusing to train from scratch" >&2; exit 2; }
mkdir -p "$out"

echo "== gpu_train.sh: $(date -u +%FT%TZ), budget $minutes min, python $(command -v "$py")"
if command -v nvidia-smi >/dev/null 2>&1; then
  timeout 30 nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader ||
    echo "gpu_train.sh: nvidia-smi failed (going on to ask torch)"
else
  echo "gpu_train.sh: no nvidia-smi (going on to ask torch)"
fi
timeout 120 "$py" -c '
import sys, torch
ok = torch.cuda.is_available()
print("torch %s, CUDA %s, cuda available: %s%s" % (torch.__version__, torch.version.cuda, ok,
      ", " + torch.cuda.get_device_name(0) if ok else ""))
sys.exit(0 if ok else 3)' || { echo "gpu_train.sh: no usable CUDA device; nothing trained" >&2; exit 3; }

# A hard stop well past the budget, so that a hang cannot eat the machine's time.
hard=$(awk -v m="$minutes" 'BEGIN { printf "%d", m * 60 + 90 }' 2>/dev/null) || hard=600
stamp=$(mktemp)
echo "== training (train.py --minutes $minutes, hard stop after $hard s)"
PYTHONUNBUFFERED=1 timeout -k 10 "$hard" "$py" "$tw/train.py" --device cuda --minutes "$minutes" \
  --ckpt-minutes 2 --slim "$runs/final-slim.pt" > "$out/train-this-run.log" 2>&1
rc=$?
this_run=$(cat "$out/train-this-run.log")
printf '%s\n' "$this_run"
printf '%s\n' "$this_run" >> "$runs/train.log" && rm -f "$out/train-this-run.log"

status=0
src="$runs/final.pt"
if [ "$rc" -ne 0 ] || [ ! "$src" -nt "$stamp" ] || [ ! "$runs/final-slim.pt" -nt "$stamp" ]; then
  echo "gpu_train.sh: train.py exited with status $rc without a new final.pt; returning the last" \
       "checkpoint (runs/ckpt.pt) instead" >&2
  src="$runs/ckpt.pt"
  "$py" -c "import sys; sys.path.insert(0, '$tw'); import train; train.write_slim('$src', '$runs/final-slim.pt')" ||
    echo "gpu_train.sh: could not slim $src" >&2
  status=4
fi
rm -f "$stamp"

size=$(wc -c < "$src")
hash=$(sha256sum < "$src" | cut -d' ' -f1)
echo "$hash  final.pt" > "$out/SHA256SUMS"
if [ "$size" -lt "$limit" ]; then
  cp "$src" "$out/final.pt"
else
  cp "$runs/final-slim.pt" "$out/final-slim.pt"
  split -b 15M -d "$src" "$out/final.pt.part-"
fi
cp "$runs/loss.tsv" "$out/loss.tsv" 2>/dev/null || echo "gpu_train.sh: no runs/loss.tsv" >&2
cp "$runs/train.log" "$out/train.log"

echo "== returned in $out:"
ls -l "$out"
for f in "$out"/*; do
  [ "$(wc -c < "$f")" -lt "$limit" ] || echo "gpu_train.sh: WARNING $f is over 16 MiB and will not come back" >&2
done
echo "== this run (exit status $status):"
printf '%s\n' "$this_run" | grep -E -i '^(device|resumed|checkpoint rng|this run|done)|warning|error|traceback' || true
exit "$status"
