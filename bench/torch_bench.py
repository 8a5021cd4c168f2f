#!/usr/bin/python3
# torch_bench.py — PyTorch's side of bench/run.sh: loads a sculpt flat weight file into the
# PyTorch mirror of diffusers UNet2DModel (strict), times one evaluation at a batch size and
# thread count, and can export the same network to ONNX for ort_bench.js. Run with
# Debian's /usr/bin/python3 (python3-torch 1.13) and OpenBLAS (see README.md, "Benchmarks").
import argparse
import inspect
import os
import resource
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from peer_util import rss_kb  # noqa: E402


def loaded_blas():
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if "blas" in os.path.basename(p):
                libs.add(p)
    for p in sorted(libs):
        if "openblas" in p:
            return "openblas-openmp" if "openmp" in p else ("openblas-pthread" if "pthread" in p else "openblas")
    return "reference-blas" if libs else "none"


def diffusers_config(cfg):
    """A flat file's sculpt_config as the diffusers-style dict of tests/reference/unet_ref.py."""
    L = cfg["n_levels"]
    return dict(
        in_channels=cfg["in_channels"], out_channels=cfg["out_channels"], sample_size=cfg["sample_size"],
        block_out_channels=tuple(cfg["block_out_channels"][:L]),
        down_block_types=tuple("AttnDownBlock2D" if a else "DownBlock2D" for a in cfg["down_attn"][:L]),
        up_block_types=tuple("AttnUpBlock2D" if a else "UpBlock2D" for a in cfg["up_attn"][:L]),
        layers_per_block=cfg["layers_per_block"], norm_num_groups=cfg["norm_num_groups"],
        attn_norm_num_groups=cfg["attn_norm_num_groups"], norm_eps=cfg["norm_eps"],
        attention_head_dim=cfg["attention_head_dim"] or None, add_attention=bool(cfg["mid_attention"]),
        flip_sin_to_cos=bool(cfg["flip_sin_to_cos"]), freq_shift=cfg["freq_shift"],
        downsample_padding=cfg["downsample_padding"], center_input_sample=bool(cfg["center_input_sample"]),
        resamp_with_conv=cfg["downsample_type"] == 0)


def build_model(cfg, tensors):
    """The network with the file's weights, loaded strictly into tests/reference/unet_ref.py's
    mirror of diffusers UNet2DModel (the one the golden tests check sculpt against)."""
    import torch

    sd = {k: torch.from_numpy(v.copy()) for k, v in tensors.items()}
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "reference"))
    import unet_ref

    model = unet_ref.UNet2D(diffusers_config(cfg))
    model.load_state_dict(sd, strict=True)
    return model.eval(), "tests/reference/unet_ref.py"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--iters", type=int, default=3)
    ap.add_argument("--jit", action="store_true", help="torch.jit.trace + freeze + optimize_for_inference")
    ap.add_argument("--save-out", help="write the output batch here (raw f32 NCHW)")
    ap.add_argument("--export-onnx", help="export the network (dynamic batch) to this path and exit")
    a = ap.parse_args()
    base = rss_kb()
    import numpy as np
    import torch

    import bench_input
    import flatfile

    torch.set_num_threads(a.threads)
    cfg, _, _, tensors = flatfile.read(a.weights)
    model, mirror = build_model(cfg, tensors)
    del tensors
    s = cfg["sample_size"]
    x, t = bench_input.make(a.batch, cfg["in_channels"], s)
    x, t = torch.from_numpy(x), torch.from_numpy(t)
    if a.export_onnx:
        tmp = a.export_onnx + ".tmp"
        kw = {}
        if "dynamo" in inspect.signature(torch.onnx.export).parameters:
            kw["dynamo"] = False  # torch >= 2.9 defaults to the dynamo exporter; keep the TorchScript one
        with torch.no_grad():
            torch.onnx.export(model, (x, t), tmp, opset_version=17, input_names=["x", "t"],
                              output_names=["eps"], dynamic_axes={"x": {0: "n"}, "t": {0: "n"}, "eps": {0: "n"}}, **kw)
        os.replace(tmp, a.export_onnx)
        print("exported %s (opset 17, dynamic batch) from %s" % (a.export_onnx, mirror))
        return
    with torch.inference_mode():
        fn = model
        if a.jit:
            fn = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(model, (x, t))))
        times = []
        for i in range(a.warmup + a.iters):
            t0 = time.perf_counter()
            out = fn(x, t)
            dt = time.perf_counter() - t0
            if i >= a.warmup:
                times.append(dt * 1e3)
    if a.save_out:
        out.numpy().astype("<f4").tofile(a.save_out)
    name = "torch-jit" if a.jit else "torch"
    print("RESULT runtime=%s batch=%d threads=%d ms_med=%.2f ms_min=%.2f iters=%d maxrss_kb=%d "
          "base_rss_kb=%d blas=%s torch=%s mirror=%s" % (
              name, a.batch, a.threads, statistics.median(times), min(times), len(times),
              resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, base, loaded_blas(),
              torch.__version__, mirror))


if __name__ == "__main__":
    main()
