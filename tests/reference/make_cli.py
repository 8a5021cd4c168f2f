#!/usr/bin/python3
"""make_cli.py — reference data for tests/cli (Debian python3-torch; run by hand, never in CI).

  /usr/bin/python3 tests/reference/make_cli.py quant    # pixel quantisation, as diffusers does it
  /usr/bin/python3 tests/reference/make_cli.py golden   # whole `sample` runs on the unet fixtures

quant: diffusers' DDPMPipeline/DDIMPipeline turn samples into pixels with
  image = (image / 2 + 0.5).clamp(0, 1)            # torch float32
  numpy_to_pil: (images * 255).round().astype("uint8")   # numpy float32, round half to even
Written: tests/fixtures/cli/quant_x.f32 (raw LE f32) and quant_px.u8 (one byte per value).

golden: fixed-seed runs of the reference samplers (sampler_ref.py, transcribed from diffusers
and k-diffusion by the sampler helper) over the reference UNet (unet_ref.py) loaded with the
weights of a committed flat fixture (tests/fixtures/unet/*.bin, read here by an independent
reader of runtime/src/format.h). Image i starts from torch.manual_seed(seed + i);
torch.randn(1, c, s, s) and the same generator supplies the sampler's noise, as `sample`
promises. Each case's tolerance is derived from the reference's own sensitivity: the run is
repeated (a) with every starting-noise value moved up by one ulp and (b) with every network
output moved by one ulp (random signs, as an implementation's own rounding would), and
the larger relative L2 change, times SENS_FACTOR (floored at TOL_FLOOR), is the bound. Written to tests/fixtures/cli/:
golden.txt (manifest), <case>.raw.f32 (final samples, NCHW), <case>.px.u8 (the PNG pixels
diffusers would make, HWC per image), <case>.noise.f32 (the starting noise).
Manifest line: golden NAME RELTOL SENS N C S CHECKSUM ARGS...   (ARGS: `sample` options;
%U is tests/fixtures/unet; CHECKSUM is the weight file's data checksum, so a regenerated
unet fixture is reported as such: rerun this script after make_unet.py)
"""
import os
import sys

import numpy as np
import struct
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sampler_ref  # noqa: E402  (read-only: the sampler helper's transcription)
import unet_ref  # noqa: E402     (read-only: the unet helper's mirror module)

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "fixtures", "cli")


def quant_inputs():
    xs = [np.linspace(-1.25, 1.25, 4001, dtype=np.float32)]
    # values whose pixel is exactly k + 0.5 before rounding, and their float32 neighbours
    k = np.arange(0, 255, dtype=np.float64)
    t = ((k + 0.5) / 255.0).astype(np.float32)
    x = (t.astype(np.float64) * 2.0 - 1.0).astype(np.float32)
    xs += [x, np.nextafter(x, np.float32(-2)), np.nextafter(x, np.float32(2))]
    xs.append(np.array([0.0, -0.0, 1.0, -1.0, 3.0e38, -3.0e38, np.inf, -np.inf, 1e-30, -1e-30,
                        np.nextafter(np.float32(1), np.float32(0)),
                        np.nextafter(np.float32(-1), np.float32(0))], dtype=np.float32))
    g = torch.Generator().manual_seed(7)
    xs.append((torch.randn(2000, generator=g) * 0.8).numpy())
    return np.concatenate(xs).astype(np.float32)


def quantise_like_diffusers(x):
    image = (torch.from_numpy(x) / 2 + 0.5).clamp(0, 1)
    images = image.numpy()
    return (images * 255).round().astype("uint8")


def make_quant():
    x = quant_inputs()
    px = quantise_like_diffusers(x)
    os.makedirs(FIX, exist_ok=True)
    x.astype("<f4").tofile(os.path.join(FIX, "quant_x.f32"))
    px.tofile(os.path.join(FIX, "quant_px.u8"))
    print("quant: %d values" % x.size)


# ---------------- golden runs ----------------
UNET_FIX = os.path.join(HERE, "..", "fixtures", "unet")
SENS_FACTOR = 10.0
TOL_FLOOR = 2e-6

VARIANCE = ["fixed_small", "fixed_large", "fixed_small_log", "fixed_large_log"]
PRED = ["epsilon", "v_prediction", "sample"]


def read_flat(path):
    """Independent reader of a flat weight file (runtime/src/format.h, version 1):
    returns (diffusers-style config for unet_ref, schedule dict, state dict)."""
    b = open(path, "rb").read()
    assert b[:8] == b"SCULPTWF", path
    table, n = struct.unpack_from("<QI", b, 24)
    sched_off = struct.unpack_from("<Q", b, 40)[0]
    i32 = lambda o: struct.unpack_from("<i", b, o)[0]  # noqa: E731
    f32 = lambda o: struct.unpack_from("<f", b, o)[0]  # noqa: E731
    L = i32(112)
    boc = [i32(116 + 4 * k) for k in range(L)]
    down_attn = [i32(148 + 4 * k) for k in range(L)]
    up_attn = [i32(180 + 4 * k) for k in range(L)]
    o = 212
    lpb, ng, ang = i32(o), i32(o + 4), i32(o + 8)
    eps, head, mid, flip = f32(o + 12), i32(o + 16), i32(o + 20), i32(o + 24)
    shift, temb, dtype, pad, center = f32(o + 28), i32(o + 32), i32(o + 36), i32(o + 40), i32(o + 44)
    cfg = dict(in_channels=i32(100), out_channels=i32(104), sample_size=i32(108),
               block_out_channels=tuple(boc),
               down_block_types=tuple("AttnDownBlock2D" if a else "DownBlock2D" for a in down_attn),
               up_block_types=tuple("AttnUpBlock2D" if a else "UpBlock2D" for a in up_attn),
               layers_per_block=lpb, norm_num_groups=ng, attn_norm_num_groups=ang, norm_eps=eps,
               attention_head_dim=head or None, add_attention=bool(mid), flip_sin_to_cos=bool(flip),
               freq_shift=shift, downsample_padding=pad, center_input_sample=bool(center),
               resamp_with_conv=(dtype == 0))
    assert temb == 4 * boc[0]
    T, bsched, bstart, bend, var, clip, clip_range, pred = struct.unpack_from("<iiffiifi", b, 288)
    betas = torch.from_numpy(np.frombuffer(b, "<f4", T, sched_off).astype(np.float32).copy())
    sched = dict(betas=betas, variance_type=VARIANCE[var], clip_sample=bool(clip),
                 clip_sample_range=clip_range, prediction_type=PRED[pred])
    sd = {}
    for k in range(n):
        e = table + 128 * k
        name = b[e:e + 80].split(b"\0")[0].decode()
        dt, nd = struct.unpack_from("<II", b, e + 80)
        shape = struct.unpack_from("<4I", b, e + 88)[:nd]
        off, nb = struct.unpack_from("<QQ", b, e + 104)
        assert dt == 0, "golden runs use f32 fixtures"
        sd[name] = torch.from_numpy(np.frombuffer(b, "<f4", nb // 4, off).astype(np.float32).reshape(shape).copy())
    return cfg, sched, sd


def load_model(path):
    cfg, sched, sd = read_flat(path)
    m = unet_ref.UNet2D(cfg).eval()
    m.load_state_dict(sd, strict=True)
    return cfg, sched, m


# name, weights, n, seed, sampler, reference options, extra CLI args
GOLDEN = [
    ("ddim10", "tiny.bin", 2, 42, "ddim", dict(steps=10), []),
    ("ddim_eta", "tiny.bin", 2, 3, "ddim", dict(steps=8, eta=0.5, spacing="trailing"),
     ["--eta", "0.5", "--spacing", "trailing"]),
    ("ddpm25", "tiny.bin", 2, 7, "ddpm", dict(steps=25), []),
    ("ddpm_linspace", "tiny.bin", 1, 1000, "ddpm", dict(steps=12, spacing="linspace"),
     ["--spacing", "linspace"]),
    ("euler_churn", "tiny.bin", 2, 11, "euler", dict(steps=10, churn=1.0), ["--churn", "1"]),
    ("heun_discrete", "tiny.bin", 2, 5, "heun", dict(steps=6, sigma_schedule="discrete"),
     ["--schedule", "discrete"]),
    ("euler_a", "tiny.bin", 2, 9, "euler_a", dict(steps=10, eta=1.0), []),
    ("dpmpp_2m_exp", "tiny.bin", 2, 13, "dpmpp_2m",
     dict(steps=10, sigma_schedule="exponential", sigma_min=0.05, sigma_max=60.0),
     ["--schedule", "exponential", "--sigma-min", "0.05", "--sigma-max", "60"]),
    ("ddim_grey", "nomid.bin", 3, 0, "ddim", dict(steps=5), []),
]


def ulp_jitter(x, rs):
    """x with every value moved one ulp up or down (random signs from rs)."""
    a = x.numpy()
    up = rs.random_sample(a.shape) < 0.5
    return torch.from_numpy(np.where(up, np.nextafter(a, np.float32(np.inf)),
                                     np.nextafter(a, np.float32(-np.inf))).astype(np.float32))


def reference_runs(model, sched, cfg, sampler, opts, n, seed, shift_ulp=False, jitter_net=False):
    c, s = cfg["in_channels"], cfg["sample_size"]
    outs, noises = [], []
    rs = np.random.RandomState(1)

    def net(x, t):
        with torch.no_grad():
            y = model(x, t)
        return ulp_jitter(y, rs) if jitter_net else y

    for i in range(n):
        g = torch.Generator().manual_seed(seed + i)
        x = torch.randn(1, c, s, s, generator=g)
        noises.append(x.clone())
        if shift_ulp:
            x = torch.from_numpy(np.nextafter(x.numpy(), np.float32(np.inf)))
        with torch.no_grad():
            outs.append(sampler_ref.run(sampler, net, x, sched, opts, g))
    return torch.cat(outs), torch.cat(noises)


def rel_l2(a, b):
    return float((a.double() - b.double()).norm() / b.double().norm().clamp_min(1e-300))


def make_golden():
    torch.set_num_threads(1)
    lines = []
    for name, wfile, n, seed, sampler, opts, extra in GOLDEN:
        cfg, sched, model = load_model(os.path.join(UNET_FIX, wfile))
        out, noise = reference_runs(model, sched, cfg, sampler, opts, n, seed)
        out2, _ = reference_runs(model, sched, cfg, sampler, opts, n, seed, shift_ulp=True)
        out3, _ = reference_runs(model, sched, cfg, sampler, opts, n, seed, jitter_net=True)
        sens_in, sens_net = rel_l2(out2, out), rel_l2(out3, out)
        sens = max(sens_in, sens_net)
        tol = max(SENS_FACTOR * sens, TOL_FLOOR)
        c, s = cfg["in_channels"], cfg["sample_size"]
        out.numpy().astype("<f4").tofile(os.path.join(FIX, name + ".raw.f32"))
        noise.numpy().astype("<f4").tofile(os.path.join(FIX, name + ".noise.f32"))
        px = quantise_like_diffusers(out.numpy().transpose(0, 2, 3, 1).copy())  # NHWC as numpy_to_pil
        px.tofile(os.path.join(FIX, name + ".px.u8"))
        args = ["--weights", "%U/" + wfile, "--sampler", sampler, "--steps", str(opts["steps"]),
                "--seed", str(seed), "-n", str(n)] + extra
        with open(os.path.join(UNET_FIX, wfile), "rb") as f:
            csum = struct.unpack_from("<Q", f.read(88), 80)[0]
        lines.append("golden %s %.3g %.3g %d %d %d %016x %s" % (name, tol, sens, n, c, s, csum, " ".join(args)))
        print("golden %-14s one-ulp sensitivity: start noise %.3g, network output %.3g -> tolerance %.3g;"
              " |x| max %.3g" % (name, sens_in, sens_net, tol, float(out.abs().max())))
    with open(os.path.join(FIX, "golden.txt"), "w") as f:
        f.write("# made by tests/reference/make_cli.py golden; see its header for the format\n")
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    parts = sys.argv[1:] or ["quant", "golden"]
    for p in parts:
        {"quant": make_quant, "golden": make_golden}[p]()
