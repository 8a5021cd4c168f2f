#!/usr/bin/python3
# make_unet.py — golden fixtures for the UNet forward (tests/fixtures/unet/): tiny random
# networks run through the PyTorch mirrors in unet_ref.py, written as flat weight files
# (runtime/src/format.h, an independent Python writer) plus raw f32 inputs/outputs.
#
# Usage (Debian's python3-torch; run by hand, never in CI):
#   /usr/bin/python3 tests/reference/make_unet.py            # tests/fixtures/unet/
#   /usr/bin/python3 tests/reference/make_unet.py --full DIR # full-size google/ddpm-cifar10-32
#                                                  # random init (35.7M params), not committed
# The manifest (cases.txt) lines are:
#   case  NAME WEIGHTS INPUT N T0,T1,.. OUTPUT TOL     one forward, relative-L2 tolerance
#   inter NAME WEIGHTS INPUT N T0,..    BLOCK FILE TOL one intermediate of that forward
import argparse
import os
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import unet_ref  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# ---------------- flat weight file writer (format.h, version 1) ----------------
MASK = (1 << 64) - 1
FNV_PRIME = 0x100000001B3
SUM_INIT = 0xCBF29CE484222325


def fnv_words(data, h=SUM_INIT):
    """scw_sum_update over bytes (trailing partial word zero padded), not finalised."""
    n = len(data)
    full = n // 8
    words = np.frombuffer(data[: full * 8], dtype="<u8").tolist()
    for w in words:
        h = ((h ^ w) * FNV_PRIME) & MASK
    if n % 8:
        tail = data[full * 8:] + b"\0" * (8 - n % 8)
        h = ((h ^ struct.unpack("<Q", tail)[0]) * FNV_PRIME) & MASK
    return h


def fnv_final(h):
    return h ^ (h >> 32)


def align(x, a):
    return (x + a - 1) // a * a


DT_CODE = {"f32": 0, "f16": 1, "bf16": 2}


def tensor_bytes(t, dtype):
    t = t.detach().contiguous()
    if dtype == "f32":
        return t.float().numpy().astype("<f4").tobytes()
    if dtype == "f16":
        return t.half().numpy().astype("<f2").tobytes()
    # bf16: torch's round-to-nearest-even conversion, raw 16-bit patterns
    return t.bfloat16().view(torch.int16).numpy().astype("<i2").tobytes()


def linear_schedule(T=1000, beta_start=1e-4, beta_end=0.02):
    betas = torch.linspace(beta_start, beta_end, T, dtype=torch.float32)
    ac = torch.cumprod(1.0 - betas, dim=0)
    return betas, ac


def write_flat(path, cfg, sd, dtype="f32", meta=None, T=1000):
    """Write a flat weight file: cfg = unet_ref.sculpt_config(...), sd = diffusers names."""
    betas, ac = linear_schedule(T)
    names = list(sd.keys())
    n = len(names)
    table_off = 512
    sched_off = align(table_off + 128 * n, 8)
    meta_txt = "".join(f"{k}={v}\n" for k, v in (meta or {}).items()).encode()
    meta_off = align(sched_off + 8 * T, 8)
    data_off = align(meta_off + len(meta_txt), 64)
    blobs, offs = [], []
    cur = data_off
    for k in names:
        b = tensor_bytes(sd[k], dtype)
        offs.append(cur)
        blobs.append(b)
        cur = align(cur + len(b), 64)
    file_size = cur
    buf = bytearray(file_size)
    buf[0:8] = b"SCULPTWF"
    struct.pack_into("<II", buf, 8, 1, 512)
    struct.pack_into("<QQII", buf, 16, file_size, table_off, n, 128)
    struct.pack_into("<QQQQQ", buf, 40, sched_off, meta_off, len(meta_txt), data_off, file_size - data_off)
    struct.pack_into("<I", buf, 96, 1)
    c = cfg
    fields = ([c["in_channels"], c["out_channels"], c["sample_size"], c["n_levels"]]
              + c["block_out_channels"] + c["down_attn"] + c["up_attn"]
              + [c["layers_per_block"], c["norm_num_groups"], c["attn_norm_num_groups"]])
    o = 100
    for v in fields:
        struct.pack_into("<i", buf, o, v)
        o += 4
    struct.pack_into("<f", buf, o, c["norm_eps"]); o += 4
    for v in (c["attention_head_dim"], c["mid_attention"], c["flip_sin_to_cos"]):
        struct.pack_into("<i", buf, o, v); o += 4
    struct.pack_into("<f", buf, o, c["freq_shift"]); o += 4
    for v in (c["time_embed_dim"], c["downsample_type"], c["downsample_padding"], c["center_input_sample"]):
        struct.pack_into("<i", buf, o, v); o += 4
    assert o == 260
    # schedule: linear betas, epsilon prediction, fixed_small, clip 1.0
    struct.pack_into("<iiffiifi", buf, 288, T, 0, 1e-4, 0.02, 0, 1, 1.0, 0)
    for i, k in enumerate(names):
        e = table_off + 128 * i
        nb = k.encode()
        assert len(nb) < 80, k
        buf[e:e + len(nb)] = nb
        shape = list(sd[k].shape)
        struct.pack_into("<II", buf, e + 80, DT_CODE[dtype], len(shape))
        for j, s in enumerate(shape):
            struct.pack_into("<I", buf, e + 88 + 4 * j, s)
        struct.pack_into("<QQ", buf, e + 104, offs[i], len(blobs[i]))
    buf[sched_off:sched_off + 4 * T] = betas.numpy().astype("<f4").tobytes()
    buf[sched_off + 4 * T:sched_off + 8 * T] = ac.numpy().astype("<f4").tobytes()
    buf[meta_off:meta_off + len(meta_txt)] = meta_txt
    for off, b in zip(offs, blobs):
        buf[off:off + len(b)] = b
    dsum = fnv_final(fnv_words(bytes(buf[data_off:])))
    struct.pack_into("<Q", buf, 80, dsum)
    hsum = fnv_final(fnv_words(bytes(buf[:data_off])))  # field 88 is still zero here
    struct.pack_into("<Q", buf, 88, hsum)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(buf)
    os.replace(tmp, path)


def rounded_state_dict(sd, dtype):
    """The weights as the runtime sees them after loading a dtype-stored file."""
    if dtype == "f32":
        return sd
    tt = torch.float16 if dtype == "f16" else torch.bfloat16
    return {k: v.to(tt).float() for k, v in sd.items()}


def randomise(model, gen):
    """Default init plus random GroupNorm affine params and biases, so every tensor matters."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ("norm" in name) and name.endswith("weight"):
                p.copy_(1.0 + 0.2 * torch.randn(p.shape, generator=gen))
            elif name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=gen))


def save_f32(path, t):
    t.detach().contiguous().float().numpy().astype("<f4").tofile(path)


def rel_l2(a, b):
    return float((a.double() - b.double()).norm() / b.double().norm().clamp_min(1e-300))


# ---------------- the tiny fixtures ----------------
TINY = dict(in_channels=3, out_channels=3, sample_size=16, block_out_channels=(8, 16, 16),
            down_block_types=("DownBlock2D", "AttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "AttnUpBlock2D", "UpBlock2D"),
            layers_per_block=1, norm_num_groups=4, norm_eps=1e-6, attention_head_dim=None,
            flip_sin_to_cos=False, freq_shift=1, downsample_padding=0)
# multi-head attention and every other switch flipped
MHA = dict(in_channels=3, out_channels=6, sample_size=8, block_out_channels=(8, 16),
           down_block_types=("AttnDownBlock2D", "AttnDownBlock2D"),
           up_block_types=("AttnUpBlock2D", "UpBlock2D"),
           layers_per_block=1, norm_num_groups=4, attn_norm_num_groups=2, norm_eps=1e-5,
           attention_head_dim=4, flip_sin_to_cos=True, freq_shift=0, downsample_padding=1,
           center_input_sample=True)
NOMID = dict(TINY, block_out_channels=(8, 12), down_block_types=("DownBlock2D", "DownBlock2D"),
             up_block_types=("UpBlock2D", "UpBlock2D"), layers_per_block=2, add_attention=False,
             sample_size=8, in_channels=1, out_channels=1)


def run_case(lines, model, name, wfile, x, t, tol, inter=False):
    rec = {}
    with torch.no_grad():
        tt = torch.tensor(t, dtype=torch.float32)
        y = model(x, tt, record=rec) if isinstance(model, unet_ref.UNet2D) else model(x, tt)
    base = f"{name}"
    save_f32(os.path.join(OUT, base + ".in.f32"), x)
    save_f32(os.path.join(OUT, base + ".out.f32"), y)
    ts = ",".join(repr(float(v)) for v in t)
    lines.append(f"case {name} {wfile} {base}.in.f32 {x.shape[0]} {ts} {base}.out.f32 {tol:g}")
    if inter:
        for k, v in rec.items():
            fn = f"{base}.{k}.f32"
            save_f32(os.path.join(OUT, fn), v)
            lines.append(f"inter {name} {wfile} {base}.in.f32 {x.shape[0]} {ts} {k} {fn} {tol:g}")
    return y


def make_tiny(lines):
    gen = torch.Generator().manual_seed(1234)
    torch.manual_seed(1234)
    m = unet_ref.UNet2D(TINY).eval()
    randomise(m, gen)
    sd = m.state_dict()
    cfg = unet_ref.sculpt_config(TINY)
    write_flat(os.path.join(OUT, "tiny.bin"), cfg, sd, "f32", {"source": "make_unet.py tiny"})
    s = TINY["sample_size"]
    x1 = torch.randn(1, 3, s, s, generator=gen)
    for nm, t in (("tiny_t0", [0.0]), ("tiny_t500", [500.0]), ("tiny_t250p37", [250.37]),
                  ("tiny_t999", [999.0])):
        run_case(lines, m, nm, "tiny.bin", x1, t, 1e-5)
    x2 = torch.randn(2, 3, s, s, generator=gen)
    y32 = run_case(lines, m, "tiny_b2", "tiny.bin", x2, [10.0, 765.25], 1e-5, inter=True)
    x3 = torch.randn(3, 3, s, s, generator=gen)
    run_case(lines, m, "tiny_b3", "tiny.bin", x3, [1.0, 0.5, 998.75], 1e-5)
    # reduced-precision storage: the reference runs in f32 on the rounded weights
    for dt in ("f16", "bf16"):
        write_flat(os.path.join(OUT, f"tiny_{dt}.bin"), cfg, sd, dt, {"source": f"make_unet.py tiny {dt}"})
        mr = unet_ref.UNet2D(TINY).eval()
        mr.load_state_dict(rounded_state_dict(sd, dt), strict=True)
        y = run_case(lines, mr, f"tiny_{dt}_b2", f"tiny_{dt}.bin", x2, [10.0, 765.25], 1e-5)
        print(f"  {dt} storage vs f32 weights: rel L2 {rel_l2(y, y32):.3g}")
        # the 16-bit file against the f32 network: what the storage rounding costs
        tol = 2e-3 if dt == "f16" else 2e-2
        lines.append(f"case tiny_{dt}_vs_f32 tiny_{dt}.bin tiny_b2.in.f32 2 10.0,765.25 tiny_b2.out.f32 {tol:g}")


def make_mha(lines):
    gen = torch.Generator().manual_seed(99)
    torch.manual_seed(99)
    m = unet_ref.UNet2D(MHA).eval()
    randomise(m, gen)
    # old diffusers names round-trip through rename_legacy_keys
    legacy = {k.replace("to_q", "query").replace("to_k", "key").replace("to_v", "value")
              .replace("to_out.0", "proj_attn"): v for k, v in m.state_dict().items()}
    m.load_state_dict(unet_ref.rename_legacy_keys(legacy), strict=True)
    write_flat(os.path.join(OUT, "mha.bin"), unet_ref.sculpt_config(MHA), m.state_dict(), "f32",
               {"source": "make_unet.py mha"})
    s = MHA["sample_size"]
    x = torch.rand(2, 3, s, s, generator=gen)  # [0,1] images: center_input_sample
    run_case(lines, m, "mha_b2", "mha.bin", x, [3.0, 611.5], 1e-5, inter=True)


def make_nomid(lines):
    gen = torch.Generator().manual_seed(7)
    torch.manual_seed(7)
    m = unet_ref.UNet2D(NOMID).eval()
    randomise(m, gen)
    write_flat(os.path.join(OUT, "nomid.bin"), unet_ref.sculpt_config(NOMID), m.state_dict(), "f32",
               {"source": "make_unet.py nomid"})
    x = torch.randn(1, 1, 8, 8, generator=gen)
    run_case(lines, m, "nomid_t42", "nomid.bin", x, [42.0], 1e-5)


def make_pd(lines, resamp_with_conv, name):
    """pytorch_diffusion's Model and layout; converted to diffusers names for the file."""
    gen = torch.Generator().manual_seed(5 + int(resamp_with_conv))
    torch.manual_seed(5 + int(resamp_with_conv))
    args = dict(ch=8, out_ch=3, ch_mult=(1, 2), num_res_blocks=1, attn_resolutions=(8,),
                resamp_with_conv=resamp_with_conv, in_channels=3, resolution=16, groups=4)
    pd = unet_ref.PDModel(**args).eval()
    randomise(pd, gen)
    pd.load_state_dict(pd.state_dict(), strict=True)
    sd = unet_ref.pd_to_diffusers(pd.state_dict(), 2, 1)
    cfg = unet_ref.pd_config(**args)
    mirror = unet_ref.UNet2D(cfg).eval()
    mirror.load_state_dict(sd, strict=True)
    write_flat(os.path.join(OUT, f"{name}.bin"), unet_ref.sculpt_config(cfg), mirror.state_dict(), "f32",
               {"source": f"make_unet.py {name} (pytorch_diffusion layout)"})
    x = torch.randn(2, 3, 16, 16, generator=gen)
    t = [17.0, 802.0]
    y = run_case(lines, pd, f"{name}_b2", f"{name}.bin", x, t, 1e-5)
    with torch.no_grad():
        y2 = mirror(x, torch.tensor(t))
    print(f"  {name}: pytorch_diffusion vs diffusers mirror rel L2 {rel_l2(y2, y):.3g}")
    assert rel_l2(y2, y) < 1e-6


def make_full(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    cfg = dict(unet_ref.DEFAULT_CONFIG)
    m = unet_ref.UNet2D(cfg).eval()
    n = sum(p.numel() for p in m.parameters())
    print(f"full google/ddpm-cifar10-32 architecture: {n} parameters")
    write_flat(os.path.join(out_dir, "cifar10_random.bin"), unet_ref.sculpt_config(cfg), m.state_dict(),
               "f32", {"source": "make_unet.py --full (random init)"})
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 32, 32, generator=gen)
    t = torch.tensor([500.0, 37.5])
    with torch.no_grad():
        y = m(x, t)
    save_f32(os.path.join(out_dir, "input.f32"), x)
    save_f32(os.path.join(out_dir, "output.f32"), y)
    with open(os.path.join(out_dir, "cases.txt"), "w") as f:
        f.write("# made by tests/reference/make_unet.py --full (not committed)\n")
        f.write("case full cifar10_random.bin input.f32 2 500.0,37.5 output.f32 1e-5\n")
    print(f"wrote {out_dir}")


def main():
    global OUT
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "unet"))
    ap.add_argument("--full", metavar="DIR", help="write the full-size random model instead")
    a = ap.parse_args()
    torch.set_num_threads(1)
    if a.full:
        make_full(a.full)
        return
    OUT = a.out
    os.makedirs(OUT, exist_ok=True)
    lines = []
    make_tiny(lines)
    make_mha(lines)
    make_nomid(lines)
    make_pd(lines, True, "pd_conv")
    make_pd(lines, False, "pd_avgpool")
    with open(os.path.join(OUT, "cases.txt"), "w") as f:
        f.write("# made by tests/reference/make_unet.py; see its header for the format\n")
        f.write("\n".join(lines) + "\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"wrote {len(lines)} entries to {OUT} ({total} bytes)")


OUT = None
if __name__ == "__main__":
    main()
