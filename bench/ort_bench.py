#!/usr/bin/python3
# ort_bench.py — ONNX Runtime's side of bench/run.sh through the Python package `onnxruntime`,
# for machines that have it but no Node.js (ort_bench.js is the default). Same model (the
# torch_bench.py --export-onnx export), same session options (graph optimisation 'all',
# intra-op threads set, sequential), same bench_input.py batch, same RESULT line.
# usage: ort_bench.py --model M --batch N --threads T [--warmup W] [--iters K] [--ref F]
import argparse
import os
import resource
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from peer_util import rss_kb  # noqa: E402
import bench_input  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--ref")
    a = ap.parse_args()
    base = rss_kb()
    try:
        import onnxruntime as ort
    except ImportError as e:
        print(f"ort_bench.py: onnxruntime is not importable: {e}", file=sys.stderr)
        return 3
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    sess = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
    x, t = bench_input.make(a.batch)
    feeds = {"x": x, "t": t}
    times, out = [], None
    for i in range(a.warmup + a.iters):
        t0 = time.perf_counter()
        out = sess.run(["eps"], feeds)[0]
        dt = (time.perf_counter() - t0) * 1e3
        if i >= a.warmup:
            times.append(dt)
    rel = ""
    if a.ref and os.path.exists(a.ref):
        r = np.fromfile(a.ref, dtype=np.float32)
        if r.size == out.size:
            o = out.reshape(-1).astype(np.float64)
            rel = " rel_l2_vs_torch=%.2e" % (np.sqrt(((o - r) ** 2).sum() / (r.astype(np.float64) ** 2).sum()))
    print(f"RESULT runtime=ort batch={a.batch} threads={a.threads} ms_med={statistics.median(times):.2f} "
          f"ms_min={min(times):.2f} iters={len(times)} maxrss_kb={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss} "
          f"base_rss_kb={base} ort={ort.__version__}-python{rel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
