#!/usr/bin/python3
"""train.py — trains sculpt's default model: a small DDPM UNet (diffusers UNet2DModel layout
and parameter names, Ho et al. 2020 eps-prediction) on 32x32 Twemoji, on the CPU or a GPU.

Development tool only (Debian python3-torch 1.13 on the CPU; also runs on PyTorch 2.x with
CUDA); never needed to build, test or run sculpt.

    cd weights/twemoji
    npm pack emoji-datasource-twitter@16.0.0 --pack-destination data   # then: tar xzf ... -C data
    nohup nice -n 5 /usr/bin/python3 train.py --minutes 80 > runs/train.log 2>&1 &
    python3 train.py --device cuda --minutes 6          # continue on a GPU (gpu_train.sh)

Writes runs/ckpt.pt every few minutes (resumed automatically), runs/final.pt at the end
(keys model, ema, optimizer, step, config, rng; also train_seconds, rng_device, history),
and config.json, scheduler_config.json, stats.json beside this script (--meta-dir). The
maths follows diffusers' UNet2DModel (unet_2d.py, unet_2d_blocks.py, resnet.py,
attention_processor.py, embeddings.py) so the state dict loads into UNet2DModel unchanged
and through sculpt's convert-weights.

--minutes bounds the whole process's wall time, start-up and the final checkpoint writes
included: training stops early enough to write them. Checkpoints always hold CPU tensors,
so a run resumes on either device. --device cuda keeps everything in float32 (TF32 off for
matmuls and convolutions) and draws the batch, timesteps, flips and noise from a CUDA
generator: GPU steps follow the same recipe but are not bit-reproducible against CPU steps
(other RNG streams, other summation orders); CPU runs are unchanged. When a checkpoint's RNG
state belongs to the other device, the generator is reseeded from (seed, step) and says so.
"""
import argparse
import glob
import json
import math
import os
import sys
import time
from collections import OrderedDict

T_PROCESS_START = time.time()  # --minutes counts from here

# Threads yield instead of spinning: the two cores are shared with compiler jobs, and
# spinning OpenMP threads collapse when one of them is descheduled.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------------------
# Model configuration (diffusers UNet2DModel config.json keys)

UNET_CONFIG = {
    "_class_name": "UNet2DModel",
    "_diffusers_version": "0.21.0",
    "sample_size": 32,
    "in_channels": 3,
    "out_channels": 3,
    "center_input_sample": False,
    "time_embedding_type": "positional",
    "freq_shift": 1,
    "flip_sin_to_cos": False,
    # Attention only in the mid block (8x8): attention at 16x16 cost 22% of a training step
    # here (0.93 vs 0.73 s at batch 32 on 2 cores), steps the short CPU budget needs more.
    "down_block_types": ["DownBlock2D", "DownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "UpBlock2D", "UpBlock2D"],
    "block_out_channels": [32, 64, 64],
    "layers_per_block": 2,
    "mid_block_scale_factor": 1,
    "downsample_padding": 0,
    "downsample_type": "conv",
    "upsample_type": "conv",
    "dropout": 0.0,
    "act_fn": "silu",
    "attention_head_dim": None,
    "norm_num_groups": 8,
    "attn_norm_num_groups": None,
    "norm_eps": 1e-06,
    "resnet_time_scale_shift": "default",
    "add_attention": True,
    "class_embed_type": None,
    "num_class_embeds": None,
}

SCHEDULER_CONFIG = {
    "_class_name": "DDPMScheduler",
    "_diffusers_version": "0.21.0",
    "num_train_timesteps": 1000,
    "beta_start": 0.0001,
    "beta_end": 0.02,
    "beta_schedule": "linear",
    "trained_betas": None,
    "variance_type": "fixed_small",
    "clip_sample": True,
    "clip_sample_range": 1.0,
    "prediction_type": "epsilon",
    "thresholding": False,
    "timestep_spacing": "leading",
    "steps_offset": 0,
}

# ---------------------------------------------------------------------------------------
# Model: same module tree and maths as diffusers UNet2DModel for the config above


def timestep_embedding(t, dim, flip_sin_to_cos, shift, max_period=10000):
    """diffusers embeddings.get_timestep_embedding."""
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / (half - shift)
    emb = t.float()[:, None] * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half:], emb[:, :half]], dim=-1)
    return emb


class TimestepEmbedding(nn.Module):
    def __init__(self, c0, temb):
        super().__init__()
        self.linear_1 = nn.Linear(c0, temb)
        self.linear_2 = nn.Linear(temb, temb)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    def __init__(self, ic, oc, temb, groups, eps):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, ic, eps=eps)
        self.conv1 = nn.Conv2d(ic, oc, 3, padding=1)
        self.time_emb_proj = nn.Linear(temb, oc)
        self.norm2 = nn.GroupNorm(groups, oc, eps=eps)
        self.conv2 = nn.Conv2d(oc, oc, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(ic, oc, 1) if ic != oc else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return x + h


class Attention(nn.Module):
    """Single head (attention_head_dim null), residual, scale C^-0.5, diffusers Attention."""

    def __init__(self, ch, groups, eps):
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, ch, eps=eps)
        self.to_q = nn.Linear(ch, ch)
        self.to_k = nn.Linear(ch, ch)
        self.to_v = nn.Linear(ch, ch)
        self.to_out = nn.ModuleList([nn.Linear(ch, ch), nn.Dropout(0.0)])
        self.scale = ch ** -0.5

    def forward(self, x):
        b, c, hh, ww = x.shape
        h = self.group_norm(x).view(b, c, hh * ww).transpose(1, 2).contiguous()
        q, k, v = self.to_q(h), self.to_k(h), self.to_v(h)
        w = torch.softmax(torch.bmm(q, k.transpose(1, 2)) * self.scale, dim=-1)
        h = self.to_out[0](torch.bmm(w, v))
        return x + h.transpose(1, 2).reshape(b, c, hh, ww)


class Downsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))  # downsample_padding 0: pad right/bottom


class Upsample(nn.Module):
    def __init__(self, ch):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class Block(nn.Module):
    pass


class UNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        ch = cfg["block_out_channels"]
        L = len(ch)
        g, eps, nl = cfg["norm_num_groups"], cfg["norm_eps"], cfg["layers_per_block"]
        temb = ch[0] * 4
        self.conv_in = nn.Conv2d(cfg["in_channels"], ch[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(ch[0], temb)
        self.down_blocks = nn.ModuleList()
        c = ch[0]
        for i, kind in enumerate(cfg["down_block_types"]):
            blk = Block()
            blk.resnets = nn.ModuleList()
            attn = kind == "AttnDownBlock2D"
            if attn:
                blk.attentions = nn.ModuleList()
            for j in range(nl):
                blk.resnets.append(ResnetBlock2D(c, ch[i], temb, g, eps))
                c = ch[i]
                if attn:
                    blk.attentions.append(Attention(c, g, eps))
            if i != L - 1:
                blk.downsamplers = nn.ModuleList([Downsample(c)])
            self.down_blocks.append(blk)
        self.mid_block = Block()
        self.mid_block.resnets = nn.ModuleList([ResnetBlock2D(c, c, temb, g, eps),
                                                ResnetBlock2D(c, c, temb, g, eps)])
        self.mid_block.attentions = nn.ModuleList([Attention(c, g, eps)])
        self.up_blocks = nn.ModuleList()
        rev = list(reversed(ch))
        prev = rev[0]
        for i, kind in enumerate(cfg["up_block_types"]):
            out = rev[i]
            inp = rev[min(i + 1, L - 1)]
            blk = Block()
            blk.resnets = nn.ModuleList()
            attn = kind == "AttnUpBlock2D"
            if attn:
                blk.attentions = nn.ModuleList()
            for j in range(nl + 1):
                skip = inp if j == nl else out
                rin = prev if j == 0 else out
                blk.resnets.append(ResnetBlock2D(rin + skip, out, temb, g, eps))
                if attn:
                    blk.attentions.append(Attention(out, g, eps))
            if i != L - 1:
                blk.upsamplers = nn.ModuleList([Upsample(out)])
            self.up_blocks.append(blk)
            prev = out
        self.conv_norm_out = nn.GroupNorm(g, ch[0], eps=eps)
        self.conv_out = nn.Conv2d(ch[0], cfg["out_channels"], 3, padding=1)

    def forward(self, x, t):
        cfg = self.cfg
        c0 = cfg["block_out_channels"][0]
        if t.dim() == 0:
            t = t[None].expand(x.shape[0])
        t_emb = timestep_embedding(t, c0, cfg["flip_sin_to_cos"], cfg["freq_shift"]).to(x.dtype)
        emb = self.time_embedding(t_emb)
        h = self.conv_in(x)
        skips = [h]
        for blk in self.down_blocks:
            for j, r in enumerate(blk.resnets):
                h = r(h, emb)
                if hasattr(blk, "attentions"):
                    h = blk.attentions[j](h)
                skips.append(h)
            if hasattr(blk, "downsamplers"):
                h = blk.downsamplers[0](h)
                skips.append(h)
        m = self.mid_block
        h = m.resnets[1](m.attentions[0](m.resnets[0](h, emb)), emb)
        for blk in self.up_blocks:
            for j, r in enumerate(blk.resnets):
                h = r(torch.cat([h, skips.pop()], dim=1), emb)
                if hasattr(blk, "attentions"):
                    h = blk.attentions[j](h)
            if hasattr(blk, "upsamplers"):
                h = blk.upsamplers[0](h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


# ---------------------------------------------------------------------------------------
# Data

TONES = ("1f3fb", "1f3fc", "1f3fd", "1f3fe", "1f3ff")


def is_flag(name):
    parts = name.split("-")
    return len(parts) == 2 and all(p.startswith("1f1") and len(p) == 5 and "1f1e6" <= p <= "1f1ff"
                                   for p in parts)


def load_png_32(path):
    """RGBA 64x64 composited on white (straight alpha), then a 2x2 box average, as uint8."""
    from PIL import Image
    im = Image.open(path).convert("RGBA")
    a = np.asarray(im, dtype=np.float64) / 255.0
    if a.shape[:2] != (64, 64):
        raise ValueError("%s: expected 64x64, got %r" % (path, a.shape))
    rgb = a[..., :3] * a[..., 3:4] + (1.0 - a[..., 3:4])
    rgb = rgb.reshape(32, 2, 32, 2, 3).mean(axis=(1, 3))
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def build_dataset(img_dir, flag_weight):
    files = sorted(glob.glob(os.path.join(img_dir, "*.png")))
    if not files:
        sys.exit("no PNGs under %s (npm pack emoji-datasource-twitter@16.0.0 into data/)" % img_dir)
    keep, weights, names = [], [], []
    n_tone = n_flag = 0
    for f in files:
        name = os.path.basename(f)[:-4]
        if any(t in name for t in TONES):
            n_tone += 1
            continue
        w = 1.0
        if is_flag(name):
            n_flag += 1
            w = flag_weight
        keep.append(load_png_32(f))
        weights.append(w)
        names.append(name)
    x = torch.from_numpy(np.stack(keep)).permute(0, 3, 1, 2).contiguous()  # N,3,32,32 uint8
    print("data: %d PNGs, dropped %d skin-tone variants, kept %d (%d flags at weight %.2f)"
          % (len(files), n_tone, len(keep), n_flag, flag_weight), flush=True)
    return {"images": x, "weights": torch.tensor(weights, dtype=torch.float64), "names": names,
            "n_files": len(files), "n_tone_dropped": n_tone, "n_flags": n_flag}


def std_biased(x, dim):
    """x.std(dim, unbiased=False); `correction=0` where a PyTorch no longer takes `unbiased`."""
    try:
        return x.std(dim, unbiased=False)
    except TypeError:
        return x.std(dim, correction=0)


def dataset_stats(images, weights):
    """Statistics of the training distribution (images weighted as sampled), for the
    no-reference sanity test: all in [0,1] pixel units unless said otherwise."""
    x = images.double() / 255.0                     # N,3,H,W in [0,1]
    w = weights / weights.sum()
    n = x.shape[0]
    flat = x.reshape(n, -1)
    img_mean = flat.mean(1)
    img_std = std_biased(flat, 1)
    ch_mean = (x.mean(dim=(2, 3)) * w[:, None]).sum(0)
    frac_hi = ((flat * 2 - 1 > 0.8).double().mean(1) * w).sum()
    mean_img_std = (img_std * w).sum()
    mu = (img_mean * w).sum()
    spread = math.sqrt(float(((img_mean - mu) ** 2 * w).sum()))

    def corr(a, b, wimg):
        # Pearson correlation over all pixel pairs, images weighted.
        ww = wimg[:, None].expand_as(a.reshape(n, -1)).reshape(-1)
        a, b = a.reshape(-1), b.reshape(-1)
        ma, mb = (a * ww).sum() / ww.sum(), (b * ww).sum() / ww.sum()
        cov = ((a - ma) * (b - mb) * ww).sum()
        return float(cov / torch.sqrt(((a - ma) ** 2 * ww).sum() * ((b - mb) ** 2 * ww).sum()))

    ch = corr(x[..., :, :-1], x[..., :, 1:], w)
    cv = corr(x[..., :-1, :], x[..., 1:, :], w)
    return {
        "description": "training-set statistics, images weighted as sampled in training; "
                       "pixels in [0,1] unless noted",
        "n_images": n,
        "mean_per_channel": [float(v) for v in ch_mean],
        "mean": float(mu),
        "frac_above_0.8_model_space": float(frac_hi),
        "mean_image_std": float(mean_img_std),
        "std_of_image_means": spread,
        "std_of_image_stds": math.sqrt(float(((img_std - mean_img_std) ** 2 * w).sum())),
        "neighbour_corr_horizontal": ch,
        "neighbour_corr_vertical": cv,
        "neighbour_corr": 0.5 * (ch + cv),
    }


# ---------------------------------------------------------------------------------------
# Training


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load_pt(path):
    """torch.load of our own files (full checkpoints, the data cache) onto the CPU. PyTorch 2.6
    changed the default to weights_only=True, which refuses some of what they hold; 1.13 and
    2.x both take the argument."""
    return torch.load(path, map_location="cpu", weights_only=False)


def to_cpu(obj):
    """A copy of a (nested) state dict with every tensor on the CPU; CPU tensors are kept."""
    if torch.is_tensor(obj):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        out = type(obj)() if type(obj) in (dict, OrderedDict) else {}
        for k, v in obj.items():
            out[k] = to_cpu(v)
        if hasattr(obj, "_metadata"):
            out._metadata = obj._metadata
        return out
    if isinstance(obj, list):
        return [to_cpu(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(to_cpu(v) for v in obj)
    return obj


SLIM_KEYS = ("model", "ema", "step", "config", "train_seconds", "rng_device", "history")


def slim(ck):
    """A checkpoint without the optimizer and RNG state (about half the size): what
    convert.sh (step; convert-weights picks the 'ema' set), sample_ref.py (ema, config,
    step) and the README need, but not enough to resume training from."""
    return {k: ck[k] for k in SLIM_KEYS if k in ck}


def write_slim(src, dst):
    save_atomic(slim(load_pt(src)), dst)


def rng_device_of(state):
    """Which generator an RNG state came from: the CPU's Mersenne Twister state is 5056 bytes,
    CUDA's Philox state 16."""
    return "cpu" if state.numel() > 64 else "cuda"


def fp32_check(dev):
    """Relative error of a float32 matmul and convolution on dev against float64: about 1e-6
    in IEEE float32, about 1e-3 if TF32 tensor cores were used."""
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(256, 512, generator=g), torch.randn(512, 256, generator=g)
    x, w = torch.randn(8, 64, 16, 16, generator=g), torch.randn(64, 64, 3, 3, generator=g)
    mm = (a.to(dev) @ b.to(dev)).cpu().double()
    cv = F.conv2d(x.to(dev), w.to(dev), padding=1).cpu().double()
    mm_ref, cv_ref = a.double() @ b.double(), F.conv2d(x.double(), w.double(), padding=1)
    return (float((mm - mm_ref).norm() / mm_ref.norm()), float((cv - cv_ref).norm() / cv_ref.norm()))


def setup_cuda():
    """float32 throughout: TF32 off for matmuls and cuDNN convolutions, with the fp32_precision
    settings of PyTorch >= 2.9 where they exist, else the allow_tf32 flags; then measured."""
    if not torch.cuda.is_available():
        sys.exit("train.py: --device cuda but torch.cuda.is_available() is False "
                 "(torch %s, built for CUDA %s)" % (torch.__version__, torch.version.cuda))
    dev = torch.device("cuda")
    try:
        if hasattr(torch.backends.cuda.matmul, "fp32_precision"):  # PyTorch >= 2.9
            torch.backends.cuda.matmul.fp32_precision = "ieee"
            torch.backends.cudnn.conv.fp32_precision = "ieee"
            how = "fp32_precision: matmul %s, cudnn.conv %s" % (
                torch.backends.cuda.matmul.fp32_precision, torch.backends.cudnn.conv.fp32_precision)
        else:
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
            how = "allow_tf32: matmul %s, cudnn %s" % (torch.backends.cuda.matmul.allow_tf32,
                                                       torch.backends.cudnn.allow_tf32)
    except Exception as e:  # the measurement below still tells
        how = "setting float32 precision failed: %r" % (e,)
    err = fp32_check(dev)
    print("device: cuda, %s, torch %s, CUDA %s, cuDNN %s; %s; float32 rel error vs float64: "
          "matmul %.2g, conv %.2g" % (torch.cuda.get_device_name(dev), torch.__version__,
                                      torch.version.cuda, torch.backends.cudnn.version(), how,
                                      err[0], err[1]), flush=True)
    if max(err) > 1e-4:
        print("WARNING: float32 matmul/conv errors look like TF32 (expected ~1e-6); training goes on",
              flush=True)
    return dev


def write_json(obj, path):
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=80.0,
                    help="wall-clock budget for this process, final checkpoint writes included")
    ap.add_argument("--max-steps", type=int, default=0, help="stop at this total step count (0: no limit)")
    ap.add_argument("--steps", type=int, default=0, help="stop after this many steps in this run (0: no limit)")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--warmup", type=int, default=250)
    ap.add_argument("--ema", type=float, default=0.9995)
    ap.add_argument("--flag-weight", type=float, default=0.5)
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ckpt-minutes", type=float, default=5.0)
    ap.add_argument("--runs", default=os.path.join(HERE, "runs"))
    ap.add_argument("--data", default=os.path.join(HERE, "data"))
    ap.add_argument("--meta-dir", default=HERE,
                    help="where config.json, scheduler_config.json and stats.json go")
    ap.add_argument("--slim", metavar="PATH",
                    help="also write final.pt without optimizer and RNG state to PATH")
    ap.add_argument("--no-final", action="store_true", help="timing check: write nothing at the end")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    torch.manual_seed(args.seed)
    os.makedirs(args.runs, exist_ok=True)
    os.makedirs(args.meta_dir, exist_ok=True)
    cuda = args.device == "cuda"
    dev = setup_cuda() if cuda else torch.device("cpu")

    cache = os.path.join(args.data, "twemoji32.pt")
    if os.path.exists(cache):
        ds = load_pt(cache)
    else:
        ds = build_dataset(os.path.join(args.data, "package", "img", "twitter", "64"), args.flag_weight)
        save_atomic(ds, cache)
    images = ds["images"].float() / 127.5 - 1.0
    weights = ds["weights"]
    stats = dataset_stats(ds["images"], weights)
    stats.update({"source": "emoji-datasource-twitter 16.0.0 img/twitter/64 (Twemoji, CC-BY 4.0)",
                  "n_files": ds["n_files"], "n_tone_dropped": ds["n_tone_dropped"],
                  "n_flags": ds["n_flags"], "flag_weight": args.flag_weight})

    cfg = dict(UNET_CONFIG)
    write_json(cfg, os.path.join(args.meta_dir, "config.json"))
    write_json(SCHEDULER_CONFIG, os.path.join(args.meta_dir, "scheduler_config.json"))
    write_json(stats, os.path.join(args.meta_dir, "stats.json"))
    model = UNet(cfg)
    ema = UNet(cfg)
    ema.load_state_dict(model.state_dict())
    for p in ema.parameters():
        p.requires_grad_(False)
    nparams = sum(p.numel() for p in model.parameters())
    model.to(dev)
    ema.to(dev)
    # Built after the move so its state lives beside the parameters; load_state_dict below
    # moves a checkpoint's moments to them as well.
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)

    T = SCHEDULER_CONFIG["num_train_timesteps"]
    betas = torch.linspace(SCHEDULER_CONFIG["beta_start"], SCHEDULER_CONFIG["beta_end"], T, dtype=torch.float64)
    abar = torch.cumprod(1.0 - betas, 0)
    sqrt_ab, sqrt_1mab = abar.sqrt().float().to(dev), (1.0 - abar).sqrt().float().to(dev)
    images = images.to(dev)
    weights = weights.to(dev)

    gen = torch.Generator(device=dev).manual_seed(args.seed)
    step = 0
    train_seconds = 0.0
    history = []
    run_cfg = {"unet": cfg, "scheduler": SCHEDULER_CONFIG, "batch": args.batch, "lr": args.lr,
               "warmup": args.warmup, "ema_decay": args.ema, "flag_weight": args.flag_weight,
               "seed": args.seed, "n_params": nparams, "n_images": int(images.shape[0])}
    ckpt_path = os.path.join(args.runs, "ckpt.pt")
    if os.path.exists(ckpt_path) and not args.no_final:
        ck = load_pt(ckpt_path)
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["optimizer"])
        for g in opt.param_groups:  # options a checkpoint from another PyTorch version lacks
            for k, v in opt.defaults.items():
                g.setdefault(k, v)
        step = ck["step"]
        rng_dev = ck.get("rng_device") or rng_device_of(ck["rng"])
        if rng_dev == dev.type:
            gen.set_state(ck["rng"])
        else:
            gen.manual_seed(args.seed + step)
            print("checkpoint RNG state is the %s generator's: %s generator seeded with seed + step = %d"
                  % (rng_dev, dev.type, args.seed + step), flush=True)
        train_seconds = ck.get("train_seconds", 0.0)
        history = list(ck.get("history") or [
            {"device": "cpu", "torch": "1.13 (assumed)", "from_step": 0, "to_step": step,
             "train_seconds": round(train_seconds, 1), "note": "runs before train.py kept a history"}])
        del ck
        print("resumed from %s at step %d" % (ckpt_path, step), flush=True)
    start_step = step
    seg = {"device": dev.type if not cuda else "cuda: " + torch.cuda.get_device_name(dev),
           "torch": torch.__version__, "from_step": start_step, "to_step": step, "train_seconds": 0.0,
           "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(T_PROCESS_START))}
    print("params %d; images %d; batch %d; lr %g; ema %g; threads %d; mkldnn %s; device %s"
          % (nparams, images.shape[0], args.batch, args.lr, args.ema, torch.get_num_threads(),
             torch.backends.mkldnn.is_available(), dev.type), flush=True)

    def checkpoint(path, slim_path=None):
        t0 = time.time()
        seg["to_step"], seg["train_seconds"] = step, round(train_seconds - seg_start_seconds, 1)
        obj = {"model": model.state_dict(), "ema": ema.state_dict(), "optimizer": opt.state_dict(),
               "step": step, "config": run_cfg, "rng": gen.get_state(), "train_seconds": train_seconds,
               "rng_device": dev.type, "history": history + [dict(seg)]}
        if cuda:
            obj = to_cpu(obj)
        save_atomic(obj, path)
        if slim_path:
            save_atomic(slim(obj), slim_path)
        return time.time() - t0

    seg_start_seconds = train_seconds
    t_start = time.time()
    t_last_ckpt = t_start
    deadline = T_PROCESS_START + args.minutes * 60.0
    # Time kept back for the end: ckpt.pt and final.pt (save_s each, re-measured at every
    # periodic checkpoint) and the JSON files, with a margin, plus one more step.
    save_s = 2.0
    step_s = 0.0
    loss_acc, loss_n, t_acc = 0.0, 0, time.time()
    loss_dev = torch.zeros((), dtype=torch.float64, device=dev) if cuda else None
    model.train()
    ema_params = list(ema.parameters())
    model_params = list(model.parameters())
    while True:
        now = time.time()
        reserve = step_s + (2.5 if args.slim else 2.0) * save_s + 1.0
        if (now + reserve >= deadline or (args.max_steps and step >= args.max_steps)
                or (args.steps and step - start_step >= args.steps)):
            break
        t_step = now
        idx = torch.multinomial(weights, args.batch, replacement=True, generator=gen)
        x0 = images[idx]
        flip = torch.rand(args.batch, generator=gen, device=dev) < 0.5
        x0 = torch.where(flip[:, None, None, None], x0.flip(3), x0)
        t = torch.randint(0, T, (args.batch,), generator=gen, device=dev)
        noise = torch.randn(x0.shape, generator=gen, device=dev)
        xt = sqrt_ab[t][:, None, None, None] * x0 + sqrt_1mab[t][:, None, None, None] * noise
        loss = F.mse_loss(model(xt, t), noise)
        for g in opt.param_groups:
            g["lr"] = args.lr * min(1.0, (step + 1) / args.warmup)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        d = min(args.ema, (1.0 + step) / (10.0 + step))
        with torch.no_grad():
            if cuda:
                # The same two operations per tensor as the loop below, in a few launches.
                torch._foreach_mul_(ema_params, d)
                torch._foreach_add_(ema_params, model_params, alpha=1.0 - d)
            else:
                for pe, pm in zip(ema.parameters(), model.parameters()):
                    pe.mul_(d).add_(pm.detach(), alpha=1.0 - d)
        if cuda:
            loss_dev += loss.detach()  # no host sync per step; read every 100 steps
        else:
            loss_acc += float(loss)
        loss_n += 1
        if not cuda:
            step_s = max(0.9 * step_s, time.time() - t_step)  # slow to forget a slow step
        if args.no_final and step % 5 == 0:
            print("step %d  %.3f s/step" % (step, (time.time() - t_start) / (step - start_step)), flush=True)
        if step % 100 == 0:
            if cuda:
                loss_acc = float(loss_dev)  # waits for the GPU: the timing below is real
                loss_dev.zero_()
                step_s = max(0.9 * step_s, (time.time() - t_acc) / loss_n)
            dt = time.time() - t_acc
            train_seconds += dt
            print("step %d  loss %.5f  %.3f s/step  elapsed %.1f min" % (
                step, loss_acc / loss_n, dt / loss_n, (time.time() - t_start) / 60.0), flush=True)
            with open(os.path.join(args.runs, "loss.tsv"), "a") as f:
                f.write("%d\t%.6f\t%.3f\t%.1f\n" % (step, loss_acc / loss_n, dt / loss_n, time.time() - t_start))
            loss_acc, loss_n, t_acc = 0.0, 0, time.time()
        if not args.no_final and time.time() - t_last_ckpt >= args.ckpt_minutes * 60.0:
            save_s = max(save_s * 0.5, checkpoint(ckpt_path))
            t_last_ckpt = time.time()
    if cuda:
        torch.cuda.synchronize()
    run_steps = step - start_step
    run_s = time.time() - t_start
    print("this run: %d steps in %.1f s of training: %.2f steps/s, %.4f s/step (%s)" % (
        run_steps, run_s, run_steps / max(run_s, 1e-9), run_s / max(run_steps, 1), dev.type), flush=True)
    if args.no_final:
        print("timing: %d steps in %.1f s = %.3f s/step" % (run_steps, run_s, run_s / max(run_steps, 1)))
        return
    train_seconds += time.time() - t_acc
    checkpoint(ckpt_path)
    checkpoint(os.path.join(args.runs, "final.pt"), args.slim)
    cfg_out = {k: v for k, v in cfg.items()}
    write_json(cfg_out, os.path.join(args.meta_dir, "config.json"))
    write_json(SCHEDULER_CONFIG, os.path.join(args.meta_dir, "scheduler_config.json"))
    write_json(stats, os.path.join(args.meta_dir, "stats.json"))
    print("done: step %d, %.1f min of training in total; wrote runs/final.pt, config.json, "
          "scheduler_config.json, stats.json; %.1f s since the process started (budget %.1f s)"
          % (step, train_seconds / 60.0, time.time() - T_PROCESS_START, args.minutes * 60.0), flush=True)


if __name__ == "__main__":
    main()
