#!/usr/bin/python3
"""sample_ref.py — PyTorch reference samples of the default model for tests/default_model:
DDIM (diffusers DDIMScheduler defaults, eta 0) with train.py's UNet on the f16-rounded EMA
weights, from `torch.manual_seed(seed + i); torch.randn(1, 3, 32, 32)` per image.

Development tool (Debian python3-torch); run by hand after converting a new final.pt:

    /usr/bin/python3 sample_ref.py runs/final.pt --steps 20 --seed 1000 -n 4 \
        -o ../../tests/fixtures/default_model/ddim20-seed1000.f32

It writes the float64 run (the reference), and prints how far a float32 run of the same
maths lands from it: the scale of arithmetic noise the C runtime's tolerance is set from.
DDIM follows diffusers scheduling_ddim.py: leading spacing, steps_offset 0,
set_alpha_to_one True, clip_sample from scheduler_config.json, pred_epsilon unclipped.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train  # noqa: E402


def load_ema_f16(path):
    ck = torch.load(path, map_location="cpu")
    cfg = ck["config"]["unet"] if "config" in ck and "unet" in ck["config"] else dict(train.UNET_CONFIG)
    model = train.UNet(cfg)
    sd = {k: v.half().float() for k, v in ck["ema"].items()}
    model.load_state_dict(sd)
    model.eval()
    return model, ck


def ddim(model, x, steps, sched, dtype, t_shift=0):
    T = sched["num_train_timesteps"]
    betas = torch.linspace(sched["beta_start"], sched["beta_end"], T, dtype=torch.float32)
    ac = torch.cumprod(1.0 - betas, dim=0).to(dtype)
    final = torch.tensor(1.0, dtype=dtype)
    ratio = T // steps
    ts = (np.arange(0, steps) * ratio).round()[::-1].copy().astype(np.int64)
    x = x.to(dtype)
    for t in ts:
        with torch.no_grad():
            eps = model(x, torch.tensor(int(t) + t_shift))
        prev = int(t) - ratio
        a_t = ac[int(t)]
        a_prev = ac[prev] if prev >= 0 else final
        x0 = (x - (1 - a_t) ** 0.5 * eps) / a_t ** 0.5
        if sched.get("clip_sample", True):
            r = sched.get("clip_sample_range", 1.0)
            x0 = x0.clamp(-r, r)
        x = a_prev ** 0.5 * x0 + (1 - a_prev) ** 0.5 * eps
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ckpt")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--seed", type=int, default=1000)
    ap.add_argument("-n", type=int, default=4)
    ap.add_argument("-o", "--out", required=True)
    ap.add_argument("--faults", action="store_true",
                    help="also print how far plausible faults move the result (tolerance check)")
    ap.add_argument("--scheduler-config", default=os.path.join(HERE, "scheduler_config.json"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    with open(args.scheduler_config) as f:
        sched = json.load(f)
    model, ck = load_ema_f16(args.ckpt)
    noise = []
    for i in range(args.n):
        torch.manual_seed(args.seed + i)
        noise.append(torch.randn(1, 3, 32, 32))
    noise = torch.cat(noise)
    x64 = ddim(model.double(), noise, args.steps, sched, torch.float64)
    x32 = ddim(model.float(), noise, args.steps, sched, torch.float32).double()
    d = (x32 - x64)
    rel = float(d.norm() / x64.norm())
    print("f32 vs f64: rel L2 %.3g, max abs %.3g; per image rel L2 %s" % (
        rel, float(d.abs().max()),
        " ".join("%.3g" % float(d[i].norm() / x64[i].norm()) for i in range(args.n))))
    if args.faults:
        def rel_to_ref(y):
            y = y.double()
            return " ".join("%.3g" % float((y[i] - x64[i]).norm() / x64[i].norm()) for i in range(args.n))
        ck_model = train.UNet(ck["config"]["unet"])
        ck_model.load_state_dict(ck["ema"])  # f32 weights, not rounded to f16
        ck_model.eval()
        print("fault: unrounded f32 weights: rel L2 %s" % rel_to_ref(ddim(ck_model, noise, args.steps, sched, torch.float32)))
        print("fault: timestep + 1: rel L2 %s" % rel_to_ref(ddim(model.float(), noise, args.steps, sched, torch.float32, 1)))
        print("other seed: rel L2 %s" % rel_to_ref(torch.roll(x64, 1, 0)))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    x64.float().numpy().astype("<f4").tofile(args.out)
    print("wrote %s: ddim %d steps, seeds %d..%d, checkpoint step %d" % (
        args.out, args.steps, args.seed, args.seed + args.n - 1, ck.get("step", -1)))


if __name__ == "__main__":
    main()
