#!/bin/bash
# run.sh — the UNet benchmark (issues 3 and 5): for each batch size and thread count, sculpt's
# ms per evaluation of the full-size google/ddpm-cifar10-32 network (random weights) next to
# PyTorch's and ONNX Runtime's for the same weights and input, with ratios, GFLOP/s, % of the
# measured FMA peak (bench/fma_peak), peak memory and a checksum of sculpt's output.
# Not a pass/fail test. See README.md, "Benchmarks". Everything runs under `nice -n 10`.
set -u -o pipefail

usage() {
  cat <<'USAGE'
usage: bench/run.sh [--build DIR] [--weights FILE] [--batches 1,8,16] [--threads 1,2]
                    [--warmup N] [--iters N] [--full] [--isa I] [--precision P] [--conv C]
                    [--no-torch] [--no-ort] [--torch-jit] [--no-peak] [--stat med|min] [--rounds N]
                    [--scaling] [--table-from LOG]
  --build DIR   meson build dir holding bench/bench_unet and bench/fma_peak
                (default: $MESON_BUILD_ROOT when run as `ninja bench-unet`)
  --weights F   flat weight file (default: the full-size random model of
                tests/reference/make_unet.py --full, made into bench/out/full if missing)
  --full        more iterations (warmup 2; 10 timed at batch <= 2, else 5); default 1 + 3/2
  --torch-jit   also time torch.jit.trace + freeze + optimize_for_inference
  --isa/--precision/--conv  passed to sculpt (bench_unet --isa / --precision / --conv)
  env SCULPT_BENCH_PY   the python3 with torch (default /usr/bin/python3); where Node.js is
                        missing and it has onnxruntime, ONNX Runtime runs through ort_bench.py
  --table-from LOG   print the table of an earlier run's bench/out/last-run.txt
  --stat med|min     the table's times: median (default) or best of the timed runs
  --scaling          also time sculpt at 1 and at the largest --threads count in one
                     process, evaluations alternating (bench_unet --scaling): a speed-up
                     that drifting load on a shared host cannot skew
  --rounds N         run every configuration's runtimes N times, round-robin (torch, ort,
                     sculpt, next configuration, ..., then again); each cell is the best
                     round's value: a burst of load on a shared host then hits one round of
                     one runtime, not the table
USAGE
}

# Two shared cores: stay polite (re-run under nice 10 before anything else).
if [ "$(nice)" -lt 10 ]; then exec nice -n $((10 - $(nice))) "$0" "$@"; fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
OUT=$HERE/out
BUILD=${MESON_BUILD_ROOT:-}
WEIGHTS=
BATCHES=1,8,16
THREADS=1,2
WARMUP=1
ITERS=
FULL=0 TORCH=1 ORT=1 JIT=0 PEAK=1 ROUNDS=1 SCALING=0
SCULPT_ARGS=()
PY=${SCULPT_BENCH_PY:-/usr/bin/python3} # a python3 with torch (Debian's python3-torch here)
ORT_PY=0 # 1: time ONNX Runtime through python onnxruntime (ort_bench.py) instead of Node
# PyTorch with Debian's OpenBLAS (libopenblas0-openmp), not the 6x slower reference BLAS.
BLAS_PRELOAD=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)/openblas-openmp/libblas.so.3
[ -f "$BLAS_PRELOAD" ] || BLAS_PRELOAD=

# The table, from the RESULT and fma_peak lines on stdin (also: run.sh --table-from LOG).
GFLOP_PER_IMAGE=12.44 # full-size CIFAR-10 UNet at 32x32 (README.md, "Benchmarks": how it is counted)
STAT=med TABLE_FROM=
table() {
  awk -v gf="$GFLOP_PER_IMAGE" -v stat="ms_$STAT" '
  function kv(line, key,   m) { if (match(line, " " key "=[^ ]*")) return substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 2); return "" }
  /^fma_peak / { t = kv($0, "threads"); g = kv($0, "gflops"); if (g != "" && (!(t in peak) || g + 0 > peak[t] + 0)) peak[t] = g }
  /^RESULT/ {
    rt = kv($0, "runtime"); b = kv($0, "batch"); t = kv($0, "threads"); k = b SUBSEP t
    if (!(k in seen)) { seen[k] = 1; order[++no] = k }
    v = kv($0, stat); rounds[rt, k]++
    if ((rt, k) in ms && v + 0 >= ms[rt, k] + 0) next  # several rounds: the best one
    ms[rt, k] = v; rss[rt, k] = kv($0, "maxrss_kb")
    if (rt == "sculpt") { sum[k] = kv($0, "checksum"); rel[k] = kv($0, "rel_l2_vs_torch"); isa[k] = kv($0, "isa") }
    if (rt == "ort") orel[k] = kv($0, "rel_l2_vs_torch")
    have[rt] = 1
  }
  function f(x, fmt) { return x == "" ? "-" : sprintf(fmt, x) }
  function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.2f", a / b) }
  function gfs(m, b) { return m == "" ? "" : gf * b / (m / 1000) }
  END {
    printf "| batch | thr | sculpt ms | GFLOP/s | %% peak | torch ms | ort ms | sculpt/torch | sculpt/ort | torch GFLOP/s | ort GFLOP/s | max RSS MB sculpt / torch / ort | sculpt checksum | rel-L2 sculpt, ort vs torch |\n"
    printf "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    for (i = 1; i <= no; i++) {
      k = order[i]; split(k, bt, SUBSEP); b = bt[1]; t = bt[2]
      s = ms["sculpt", k]; g = gfs(s, b)
      pk = (t in peak && g != "") ? sprintf("%.0f%%", 100 * g / peak[t]) : "-"
      printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s / %s | %s | %s, %s |\n", b, t,
        f(s, "%.1f"), f(g, "%.1f"), pk, f(ms["torch", k], "%.1f"), f(ms["ort", k], "%.1f"),
        ratio(s, ms["torch", k]), ratio(s, ms["ort", k]),
        f(gfs(ms["torch", k], b), "%.1f"), f(gfs(ms["ort", k], b), "%.1f"),
        f(rss["sculpt", k] / 1024, "%.0f"), f(rss["torch", k] == "" ? "" : rss["torch", k] / 1024, "%.0f"),
        f(rss["ort", k] == "" ? "" : rss["ort", k] / 1024, "%.0f"), f(sum[k], "%s"), f(rel[k], "%.1e"), f(orel[k], "%.1e")
      if ("torch-jit" in have) jit[k] = ms["torch-jit", k]
    }
    if ("torch-jit" in have) {
      print ""; print "torch.jit (trace + freeze + optimize_for_inference) ms:"
      for (i = 1; i <= no; i++) { k = order[i]; split(k, bt, SUBSEP)
        printf "  batch %s, %s thr: %s ms (sculpt/torch-jit %s)\n", bt[1], bt[2], f(jit[k], "%.1f"), ratio(ms["sculpt", k], jit[k]) }
    }
    print ""
    for (i = 1; i <= no; i++) { k = order[i]; split(k, bt, SUBSEP)
      k1 = bt[1] SUBSEP 1; k2 = bt[1] SUBSEP 2
      if (bt[2] == 2 && ms["sculpt", k1] != "" && ms["sculpt", k2] != "")
        printf "sculpt speed-up from 1 to 2 threads at batch %s: %.2fx\n", bt[1], ms["sculpt", k1] / ms["sculpt", k2] }
    for (k in isa) { printf "sculpt kernel path: %s\n", isa[k]; break }
    nr = 0; for (k in rounds) if (rounds[k] > nr) nr = rounds[k]
    printf "times: %s of the timed evaluations%s; ", (stat == "ms_min" ? "best" : "median"),
      (nr > 1 ? sprintf(", best of %d rounds", nr) : "")
    printf "GFLOP/s = %s GFLOP x batch / time; %% peak = of bench/fma_peak'"'"'s best path at that thread count\n", gf
  }'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --weights) WEIGHTS=$2; shift 2 ;;
    --batches) BATCHES=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --iters) ITERS=$2; shift 2 ;;
    --full) FULL=1; WARMUP=2; shift ;;
    --isa) SCULPT_ARGS+=(--isa "$2"); shift 2 ;;
    --precision) SCULPT_ARGS+=(--precision "$2"); shift 2 ;;
    --conv) SCULPT_ARGS+=(--conv "$2"); shift 2 ;;
    --no-torch) TORCH=0; shift ;;
    --no-ort) ORT=0; shift ;;
    --torch-jit) JIT=1; shift ;;
    --no-peak) PEAK=0; shift ;;
    --stat) STAT=$2; shift 2
      [ "$STAT" = med ] || [ "$STAT" = min ] || { echo "run.sh: --stat is med or min" >&2; exit 2; } ;;
    --scaling) SCALING=1; shift ;;
    --rounds) ROUNDS=$2; shift 2
      [[ "$ROUNDS" =~ ^[1-9][0-9]?$ ]] || { echo "run.sh: --rounds is 1..99" >&2; exit 2; } ;;
    --table-from) TABLE_FROM=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
if [ -n "$TABLE_FROM" ]; then grep -E '^(RESULT|fma_peak) ' "$TABLE_FROM" | table; exit; fi

if [ -z "$BUILD" ]; then echo "run.sh: give --build DIR (a meson build dir of this tree)" >&2; exit 2; fi
BENCH_UNET=$BUILD/bench/bench_unet
FMA_PEAK=$BUILD/bench/fma_peak
# As a meson run_target the two are built already (and a nested ninja would race).
[ -n "${MESON_BUILD_ROOT:-}" ] || ninja -C "$BUILD" bench/bench_unet bench/fma_peak >/dev/null || {
  echo "run.sh: could not build bench/bench_unet and bench/fma_peak in $BUILD" >&2; exit 1; }
mkdir -p "$OUT"
LOG=$OUT/last-run.txt
: >"$LOG"
say() { echo "$@" | tee -a "$LOG"; }

# --- the machine ---
say "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs online," \
    "flags: $(grep -o -w -E 'avx512f|avx512_bf16|avx512_fp16|amx_bf16|avx2|fma|asimd' /proc/cpuinfo | sort -u | tr '\n' ' ')"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
say "load average at start: $LOAD0"
if awk -v l="${LOAD0%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > 0.25 * n) }'; then
  say "warning: the machine is busy; other processes on these cores skew every number below"
fi

# --- peak ---
if [ "$PEAK" = 1 ]; then
  while read -r line; do
    echo "$line" >>"$LOG"
    isa=$(sed -n 's/.*isa=\([^ ]*\).*/\1/p' <<<"$line")
    t=$(sed -n 's/.*threads=\([0-9]*\).*/\1/p' <<<"$line")
    g=$(sed -n 's/.*gflops=\([0-9.]*\).*/\1/p' <<<"$line")
    [ -n "$g" ] || continue
    say "fma peak: $isa, $t thread(s): $g GFLOP/s"
  done < <("$FMA_PEAK" --threads "$THREADS")
fi

# --- weights, ONNX export, ORT install ---
if [ -z "$WEIGHTS" ]; then
  for w in "$ROOT/tests/fixtures/unet/full/cifar10_random.bin" "$OUT/full/cifar10_random.bin"; do
    if [ -f "$w" ]; then WEIGHTS=$w; break; fi
  done
fi
if [ -z "$WEIGHTS" ]; then
  say "weights: writing the full-size random model (tests/reference/make_unet.py --full bench/out/full)"
  "$PY" "$ROOT/tests/reference/make_unet.py" --full "$OUT/full" >>"$LOG" || exit 1
  WEIGHTS=$OUT/full/cifar10_random.bin
elif [ ! -f "$WEIGHTS" ]; then
  echo "run.sh: --weights $WEIGHTS does not exist" >&2; exit 2
fi
say "weights: $WEIGHTS ($(($(stat -c %s "$WEIGHTS") / 1048576)) MiB)"
HAVE_TORCH=0
if [ "$TORCH" = 1 ] || [ "$ORT" = 1 ]; then
  if "$PY" -c 'import torch' 2>/dev/null; then HAVE_TORCH=1; else say "torch: $PY has no torch; peers skipped"; fi
fi
ONNX=$OUT/unet.onnx
WKEY="$(readlink -f "$WEIGHTS") $(stat -c '%s %Y' "$WEIGHTS")" # the export is of these weights
if [ "$ORT" = 1 ] && [ "$HAVE_TORCH" = 1 ] && [ "$(cat "$ONNX.src" 2>/dev/null)" != "$WKEY" ]; then
  rm -f "$ONNX" "$ONNX.src"
  if "$PY" "$HERE/torch_bench.py" --weights "$WEIGHTS" --export-onnx "$ONNX" 2>>"$LOG" | tee -a "$LOG"; then
    echo "$WKEY" >"$ONNX.src"
  else ORT=0; fi
fi
if [ "$ORT" = 1 ] && [ -z "${ORT_NODE_DIR:-}" ] && [ ! -d "$OUT/ort/node_modules/onnxruntime-node" ] &&
   { ! command -v node >/dev/null || [ -n "${SCULPT_BENCH_ORT_PY:-}" ]; } && "$PY" -c 'import onnxruntime' 2>/dev/null; then
  ORT_PY=1
  say "ort: using $PY's onnxruntime $("$PY" -c 'import onnxruntime; print(onnxruntime.__version__)') (bench/ort_bench.py; no Node.js onnxruntime-node here)"
elif [ "$ORT" = 1 ] && [ -z "${ORT_NODE_DIR:-}" ] && [ ! -d "$OUT/ort/node_modules/onnxruntime-node" ]; then
  say "ort: installing npm onnxruntime-node into bench/out/ort (--ignore-scripts: CPU only)"
  npm install --ignore-scripts --no-audit --no-fund --prefix "$OUT/ort" onnxruntime-node >>"$LOG" 2>&1 ||
    { say "ort: npm install failed; ONNX Runtime skipped"; ORT=0; }
fi
[ "$ORT" = 1 ] && [ ! -f "$ONNX.src" ] && ORT=0

# --- the runs: one fresh process per runtime and configuration ---
run_one() { # runtime batch threads warmup iters
  local rt=$1 b=$2 t=$3 w=$4 n=$5 line
  local ref=$OUT/torch_out_b$b.f32
  case $rt in
    torch|torch-jit)
      local jit=(); [ "$rt" = torch-jit ] && jit=(--jit)
      line=$(OMP_NUM_THREADS=$t LD_PRELOAD=${BLAS_PRELOAD:-${LD_PRELOAD:-}} "$PY" "$HERE/torch_bench.py" --weights "$WEIGHTS" \
             --batch "$b" --threads "$t" --warmup "$w" --iters "$n" --save-out "$ref" "${jit[@]}" 2>>"$LOG" | grep '^RESULT') ;;
    ort)
      local ort_cmd=(node "$HERE/ort_bench.js"); [ "$ORT_PY" = 1 ] && ort_cmd=("$PY" "$HERE/ort_bench.py")
      line=$(OMP_NUM_THREADS=$t "${ort_cmd[@]}" --model "$ONNX" --batch "$b" --threads "$t" \
             --warmup "$w" --iters "$n" --ref "$ref" 2>>"$LOG" | grep '^RESULT') ;;
    sculpt)
      local r=(); [ -f "$ref" ] && r=(--ref "$ref")
      line=$(OMP_NUM_THREADS=$t "$BENCH_UNET" --weights "$WEIGHTS" --batch "$b" --threads "$t" \
             --warmup "$w" --iters "$n" "${SCULPT_ARGS[@]}" "${r[@]}" 2>>"$LOG" | grep '^RESULT') ;;
  esac
  if [ -n "$line" ]; then echo "$line" >>"$LOG"; echo "  $line" >&2
  else echo "  $rt batch $b threads $t: failed (see $LOG)" | tee -a "$LOG" >&2; fi
}

IFS=, read -r -a BL <<<"$BATCHES"
IFS=, read -r -a TL <<<"$THREADS"
for round in $(seq 1 "$ROUNDS"); do
for b in "${BL[@]}"; do
  if [ -n "$ITERS" ]; then n=$ITERS; elif [ "$FULL" = 1 ]; then n=$([ "$b" -le 2 ] && echo 10 || echo 5);
  else n=$([ "$b" -le 2 ] && echo 3 || echo 2); fi
  for t in "${TL[@]}"; do
    echo "batch $b, $t thread(s): $WARMUP warm-up + $n timed evaluations each (round $round of $ROUNDS)" >&2
    rm -f "$OUT/torch_out_b$b.f32"
    if [ "$HAVE_TORCH" = 1 ] && [ "$TORCH" = 1 ]; then
      run_one torch "$b" "$t" "$WARMUP" "$n"
      [ "$JIT" = 1 ] && run_one torch-jit "$b" "$t" "$WARMUP" "$n"
    elif [ "$HAVE_TORCH" = 1 ] && [ "$ORT" = 1 ]; then  # a reference output for the rel-L2 columns
      OMP_NUM_THREADS=$t "$PY" "$HERE/torch_bench.py" --weights "$WEIGHTS" --batch "$b" --threads "$t" \
        --warmup 0 --iters 1 --save-out "$OUT/torch_out_b$b.f32" >/dev/null 2>>"$LOG"
    fi
    [ "$ORT" = 1 ] && run_one ort "$b" "$t" "$WARMUP" "$n"
    run_one sculpt "$b" "$t" "$WARMUP" "$n"
  done
done
done

# --- 1 -> T threads in one process, alternating evaluations ---
TMAX=$(tr ',' '\n' <<<"$THREADS" | sort -n | tail -1)
if [ "$SCALING" = 1 ] && [ "$TMAX" -gt 1 ]; then
  for b in "${BL[@]}"; do
    if [ -n "$ITERS" ]; then n=$ITERS; elif [ "$FULL" = 1 ]; then n=$([ "$b" -le 2 ] && echo 10 || echo 5);
    else n=$([ "$b" -le 2 ] && echo 3 || echo 2); fi
    echo "batch $b: 1 and $TMAX threads alternating, $WARMUP warm-up + $n timed evaluations each" >&2
    line=$(OMP_NUM_THREADS=$TMAX "$BENCH_UNET" --weights "$WEIGHTS" --batch "$b" --threads 1 --scaling "$TMAX" \
           --warmup "$WARMUP" --iters "$n" "${SCULPT_ARGS[@]}" 2>>"$LOG" | grep '^SCALING')
    [ -n "$line" ] && { echo "$line" >>"$LOG"; echo "  $line" >&2; }
  done
fi

# --- the table ---
{
  echo
  grep -E '^(RESULT|fma_peak) ' "$LOG" | table
  grep -E '^SCALING ' "$LOG" | awk '
    function kv(line, key) { if (match(line, " " key "=[^ ]*")) return substr(line, RSTART + length(key) + 2, RLENGTH - length(key) - 2); return "" }
    { printf "sculpt speed-up, threads %s alternating in one process, batch %s: %sx (median), %sx (best); same bits: %s\n",
        kv($0, "threads"), kv($0, "batch"), kv($0, "speedup_med"), kv($0, "speedup_min"), kv($0, "same_bits") == "1" ? "yes" : "NO" }'
} | tee -a "$LOG"
say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg); raw results: $LOG"
