#!/usr/bin/python3
"""make_checkpoints.py — fixtures for convert-weights (tests/fixtures/converter/): small
random-weight DDPM UNets saved in every checkpoint format and layout the converter reads,
the tensors PyTorch itself converts them to, and noise-schedule tables computed by PyTorch.

Run by hand with Debian's python3-torch (1.13), never in CI:
    /usr/bin/python3 tests/reference/make_checkpoints.py

The module structure is transcribed from diffusers UNet2DModel (models/unets/unet_2d.py,
unet_2d_blocks.py, resnet.py, attention_processor.py) and pesser/pytorch_diffusion
(pytorch_diffusion/model.py); the schedules from diffusers schedulers/scheduling_ddpm.py
(betas_for_alpha_bar, DDPMScheduler.__init__). The expected data is what torch computes.
"""
import io
import json
import math
import os
import shutil
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "fixtures", "converter")


# ------------------------------------------------------------------------------------
# diffusers UNet2DModel module tree (registration order as diffusers, names as saved)

class Resnet(nn.Module):
    def __init__(s, ic, oc, temb, g, eps):
        super().__init__()
        s.norm1 = nn.GroupNorm(g, ic, eps=eps)
        s.conv1 = nn.Conv2d(ic, oc, 3, padding=1)
        s.time_emb_proj = nn.Linear(temb, oc)
        s.norm2 = nn.GroupNorm(g, oc, eps=eps)
        s.conv2 = nn.Conv2d(oc, oc, 3, padding=1)
        if ic != oc:
            s.conv_shortcut = nn.Conv2d(ic, oc, 1)


class Attn(nn.Module):
    def __init__(s, ch, g, eps):
        super().__init__()
        s.group_norm = nn.GroupNorm(g, ch, eps=eps)
        s.to_q = nn.Linear(ch, ch)
        s.to_k = nn.Linear(ch, ch)
        s.to_v = nn.Linear(ch, ch)
        s.to_out = nn.ModuleList([nn.Linear(ch, ch), nn.Dropout(0.0)])


class Resample(nn.Module):
    def __init__(s, ch, stride):
        super().__init__()
        s.conv = nn.Conv2d(ch, ch, 3, stride=stride, padding=0 if stride == 2 else 1)


class TimeEmb(nn.Module):
    def __init__(s, c0, temb):
        super().__init__()
        s.linear_1 = nn.Linear(c0, temb)
        s.linear_2 = nn.Linear(temb, temb)


class DiffusersUNet(nn.Module):
    """cfg: block_out_channels, layers_per_block, down_attn (per level), groups, eps,
    in_channels, out_channels, mid_attention."""

    def __init__(s, cfg):
        super().__init__()
        ch = cfg["block_out_channels"]
        L = len(ch)
        g, eps = cfg["groups"], cfg["eps"]
        temb = 4 * ch[0]
        s.conv_in = nn.Conv2d(cfg["in_channels"], ch[0], 3, padding=1)
        s.time_embedding = TimeEmb(ch[0], temb)
        s.down_blocks = nn.ModuleList()
        out = ch[0]
        for l in range(L):
            inp, out = out, ch[l]
            b = nn.Module()
            if cfg["down_attn"][l]:
                b.attentions = nn.ModuleList([Attn(out, g, eps) for _ in range(cfg["layers_per_block"])])
            b.resnets = nn.ModuleList([Resnet(inp if j == 0 else out, out, temb, g, eps)
                                       for j in range(cfg["layers_per_block"])])
            if l != L - 1:
                b.downsamplers = nn.ModuleList([Resample(out, 2)])
            s.down_blocks.append(b)
        s.mid_block = nn.Module()
        if cfg["mid_attention"]:
            s.mid_block.attentions = nn.ModuleList([Attn(ch[-1], g, eps)])
        s.mid_block.resnets = nn.ModuleList([Resnet(ch[-1], ch[-1], temb, g, eps) for _ in range(2)])
        s.up_blocks = nn.ModuleList()
        rev = list(reversed(ch))
        out = rev[0]
        for i in range(L):
            prev, out = out, rev[i]
            inp = rev[min(i + 1, L - 1)]
            n = cfg["layers_per_block"] + 1
            b = nn.Module()
            if cfg["down_attn"][L - 1 - i]:
                b.attentions = nn.ModuleList([Attn(out, g, eps) for _ in range(n)])
            rs = []
            for j in range(n):
                skip = inp if j == n - 1 else out
                rin = prev if j == 0 else out
                rs.append(Resnet(rin + skip, out, temb, g, eps))
            b.resnets = nn.ModuleList(rs)
            if i != L - 1:
                b.upsamplers = nn.ModuleList([Resample(out, 1)])
            s.up_blocks.append(b)
        s.conv_norm_out = nn.GroupNorm(g, ch[0], eps=eps)
        s.conv_out = nn.Conv2d(ch[0], cfg["out_channels"], 3, padding=1)


# ------------------------------------------------------------------------------------
# pesser/pytorch_diffusion Model module tree (only the parameters, same registration)

class PDResnet(nn.Module):
    def __init__(s, ic, oc, temb, g, eps):
        super().__init__()
        s.norm1 = nn.GroupNorm(g, ic, eps=eps)
        s.conv1 = nn.Conv2d(ic, oc, 3, padding=1)
        s.temb_proj = nn.Linear(temb, oc)
        s.norm2 = nn.GroupNorm(g, oc, eps=eps)
        s.conv2 = nn.Conv2d(oc, oc, 3, padding=1)
        if ic != oc:
            s.nin_shortcut = nn.Conv2d(ic, oc, 1)


class PDAttn(nn.Module):
    def __init__(s, ch, g, eps):
        super().__init__()
        s.norm = nn.GroupNorm(g, ch, eps=eps)
        s.q = nn.Conv2d(ch, ch, 1)
        s.k = nn.Conv2d(ch, ch, 1)
        s.v = nn.Conv2d(ch, ch, 1)
        s.proj_out = nn.Conv2d(ch, ch, 1)


class PDModel(nn.Module):
    def __init__(s, cfg):
        super().__init__()
        ch = cfg["block_out_channels"]
        L = len(ch)
        g, eps = cfg["groups"], cfg["eps"]
        c0 = ch[0]
        temb = 4 * c0
        s.temb = nn.Module()
        s.temb.dense = nn.ModuleList([nn.Linear(c0, temb), nn.Linear(temb, temb)])
        s.conv_in = nn.Conv2d(cfg["in_channels"], c0, 3, padding=1)
        in_ch = [c0] + list(ch)
        s.down = nn.ModuleList()
        block_in = c0
        for l in range(L):
            d = nn.Module()
            d.block = nn.ModuleList()
            d.attn = nn.ModuleList()
            block_in = in_ch[l]
            for i in range(cfg["layers_per_block"]):
                d.block.append(PDResnet(block_in, ch[l], temb, g, eps))
                block_in = ch[l]
                if cfg["down_attn"][l]:
                    d.attn.append(PDAttn(block_in, g, eps))
            if l != L - 1:
                d.downsample = Resample(block_in, 2)
            s.down.append(d)
        s.mid = nn.Module()
        s.mid.block_1 = PDResnet(block_in, block_in, temb, g, eps)
        s.mid.attn_1 = PDAttn(block_in, g, eps)
        s.mid.block_2 = PDResnet(block_in, block_in, temb, g, eps)
        ups = []
        for l in reversed(range(L)):
            u = nn.Module()
            u.block = nn.ModuleList()
            u.attn = nn.ModuleList()
            skip = ch[l]
            for i in range(cfg["layers_per_block"] + 1):
                if i == cfg["layers_per_block"]:
                    skip = in_ch[l]
                u.block.append(PDResnet(block_in + skip, ch[l], temb, g, eps))
                block_in = ch[l]
                if cfg["down_attn"][l]:
                    u.attn.append(PDAttn(block_in, g, eps))
            if l != 0:
                u.upsample = Resample(block_in, 1)
            ups.insert(0, u)
        s.up = nn.ModuleList(ups)
        s.norm_out = nn.GroupNorm(g, block_in, eps=eps)
        s.conv_out = nn.Conv2d(block_in, cfg["out_channels"], 3, padding=1)


def pd_to_diffusers_name(name, L):
    """pytorch_diffusion name -> diffusers name (the mapping REFERENCES.md describes)."""
    p = name.split(".")
    rs = {"temb_proj": "time_emb_proj", "nin_shortcut": "conv_shortcut"}
    at = {"norm": "group_norm", "q": "to_q", "k": "to_k", "v": "to_v", "proj_out": "to_out.0"}
    if p[0] == "temb":
        return "time_embedding.linear_%d.%s" % (int(p[2]) + 1, p[3])
    if p[0] in ("conv_in", "conv_out"):
        return name
    if p[0] == "norm_out":
        return "conv_norm_out." + p[1]
    if p[0] == "mid":
        m = {"block_1": "resnets.0", "block_2": "resnets.1", "attn_1": "attentions.0"}[p[1]]
        sub = rs.get(p[2], p[2]) if p[1].startswith("block") else at[p[2]]
        return "mid_block.%s.%s.%s" % (m, sub, p[3])
    lvl = int(p[1])
    blk = "down_blocks.%d" % lvl if p[0] == "down" else "up_blocks.%d" % (L - 1 - lvl)
    if p[2] == "block":
        return "%s.resnets.%s.%s.%s" % (blk, p[3], rs.get(p[4], p[4]), p[5])
    if p[2] == "attn":
        return "%s.attentions.%s.%s.%s" % (blk, p[3], at[p[4]], p[5])
    if p[2] in ("downsample", "upsample"):
        return "%s.%s.0.conv.%s" % (blk, p[2] + "rs", p[4])
    raise ValueError(name)


OLD_ATTN = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}


def to_old_attention_names(sd):
    out = {}
    for k, v in sd.items():
        for new, old in OLD_ATTN.items():
            if ".attentions." in k and ("." + new + ".") in k:
                k = k.replace("." + new + ".", "." + old + ".")
        out[k] = v
    return out


# ------------------------------------------------------------------------------------
# writers

ST_DT = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
         torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8"}


def tensor_bytes(t):
    t = t.detach().contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def write_safetensors(path, sd, metadata=None):
    """The safetensors layout written by hand (huggingface/safetensors tensor.rs):
    u64 header size, JSON header padded with spaces to 8 bytes, contiguous data."""
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for k, v in sd.items():
        b = tensor_bytes(v)
        header[k] = {"dtype": ST_DT[v.dtype], "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def save_zip(obj, path):
    torch.save(obj, path)


def save_legacy(obj, path):
    torch.save(obj, path, _use_new_zipfile_serialization=False)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def write_manifest(sd_canon, dtype, stem):
    """Expected canonical tensors: <stem>.raw (concatenated bytes, torch's conversion) and
    <stem>.txt lines 'name dtype offset nbytes d0,d1,...'."""
    raw = bytearray()
    lines = []
    for k, v in sd_canon.items():
        t = v.to(dtype)
        b = tensor_bytes(t)
        lines.append("%s %s %d %d %s" % (k, {torch.float32: "f32", torch.float16: "f16",
                                             torch.bfloat16: "bf16"}[dtype], len(raw), len(b),
                                         ",".join(str(d) for d in t.shape)))
        raw += b
    with open(os.path.join(OUT, stem + ".raw"), "wb") as f:
        f.write(raw)
    with open(os.path.join(OUT, stem + ".txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


# ------------------------------------------------------------------------------------
# schedules (diffusers scheduling_ddpm.py)

def betas_for_alpha_bar(T, max_beta=0.999):
    def f(t):
        return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
    return torch.tensor([min(1 - f((i + 1) / T) / f(i / T), max_beta) for i in range(T)],
                        dtype=torch.float32)


def ddpm_betas(cfg):
    T = cfg.get("num_train_timesteps", 1000)
    if cfg.get("trained_betas") is not None:
        return torch.tensor(cfg["trained_betas"], dtype=torch.float32)
    s, e = cfg.get("beta_start", 0.0001), cfg.get("beta_end", 0.02)
    sched = cfg.get("beta_schedule", "linear")
    if sched == "linear":
        return torch.linspace(s, e, T, dtype=torch.float32)
    if sched == "scaled_linear":
        return torch.linspace(s ** 0.5, e ** 0.5, T, dtype=torch.float32) ** 2
    if sched == "squaredcos_cap_v2":
        return betas_for_alpha_bar(T)
    raise ValueError(sched)


def write_schedule(name, cfg):
    betas = ddpm_betas(cfg)
    alphas = 1.0 - betas
    ac = torch.cumprod(alphas, dim=0)
    d = os.path.join(OUT, "schedules")
    write_json(os.path.join(d, name + ".json"), cfg)
    with open(os.path.join(d, name + ".raw"), "wb") as f:
        f.write(tensor_bytes(betas) + tensor_bytes(ac))


# ------------------------------------------------------------------------------------

def randomize(model, gen, scale=0.2):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * scale)


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    for d in ("", "schedules", "configs", "ddpm_folder/unet", "ddpm_folder/scheduler",
              "ddpm_folder_bin", "bad"):
        os.makedirs(os.path.join(OUT, d), exist_ok=True)
    gen = torch.Generator().manual_seed(20261126)

    # Main model: base 8, multipliers (1,2), 1 resnet per level, attention at level 1,
    # GroupNorm 8, 16x16 images.
    cfg = {"block_out_channels": [8, 16], "layers_per_block": 1, "down_attn": [0, 1], "groups": 8,
           "eps": 1e-6, "in_channels": 3, "out_channels": 3, "mid_attention": 1}
    net = DiffusersUNet(cfg)
    randomize(net, gen)
    sd = net.state_dict()
    sd.pop("_metadata", None)
    sd = {k: v.clone() for k, v in sd.items()}

    # Cross-check the pytorch_diffusion mapping against pytorch_diffusion's own tree.
    pd = PDModel(cfg)
    L = len(cfg["block_out_channels"])
    pd_names = list(pd.state_dict().keys())
    mapped = {pd_to_diffusers_name(k, L): k for k in pd_names}
    assert set(mapped) == set(sd), (set(mapped) ^ set(sd))
    pd_sd = {}
    for k in pd_names:
        v = sd[pd_to_diffusers_name(k, L)]
        if ".attn" in k and k.endswith(".weight") and v.dim() == 2:
            v = v.reshape(v.shape[0], v.shape[1], 1, 1)
        assert v.shape == pd.state_dict()[k].shape, k
        pd_sd[k] = v.clone()

    unet_config = {
        "_class_name": "UNet2DModel", "_diffusers_version": "0.21.0", "sample_size": 16,
        "in_channels": 3, "out_channels": 3, "center_input_sample": False,
        "time_embedding_type": "positional", "freq_shift": 1, "flip_sin_to_cos": False,
        "down_block_types": ["DownBlock2D", "AttnDownBlock2D"],
        "up_block_types": ["AttnUpBlock2D", "UpBlock2D"],
        "block_out_channels": [8, 16], "layers_per_block": 1, "mid_block_scale_factor": 1,
        "downsample_padding": 0, "downsample_type": "conv", "upsample_type": "conv",
        "dropout": 0.0, "act_fn": "silu", "attention_head_dim": None, "norm_num_groups": 8,
        "attn_norm_num_groups": None, "norm_eps": 1e-06, "resnet_time_scale_shift": "default",
        "add_attention": True, "class_embed_type": None, "num_class_embeds": None}
    sched_config = {"_class_name": "DDPMScheduler", "_diffusers_version": "0.21.0",
                    "num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02,
                    "beta_schedule": "linear", "trained_betas": None, "variance_type": "fixed_small",
                    "clip_sample": True, "clip_sample_range": 1.0, "prediction_type": "epsilon"}
    write_json(os.path.join(OUT, "config.json"), unet_config)
    write_json(os.path.join(OUT, "scheduler_config.json"), sched_config)

    # Expected canonical tensors (diffusers names), in every output dtype, as torch makes them.
    write_manifest(sd, torch.float32, "expected_f32")
    write_manifest(sd, torch.float16, "expected_f16")
    write_manifest(sd, torch.bfloat16, "expected_bf16")
    # f16/bf16 inputs, converted by torch to the other dtypes
    sd16 = {k: v.half() for k, v in sd.items()}
    sdbf = {k: v.bfloat16() for k, v in sd.items()}
    write_manifest(sd16, torch.float32, "expected_f16_f32")
    write_manifest(sd16, torch.bfloat16, "expected_f16_bf16")
    write_manifest(sdbf, torch.float16, "expected_bf16_f16")

    # Formats of the same weights
    save_legacy(to_old_attention_names(sd), os.path.join(OUT, "unet_legacy_old_names.bin"))
    save_zip(pd_sd, os.path.join(OUT, "pd_model.ckpt"))
    write_safetensors(os.path.join(OUT, "unet_f16.safetensors"), sd16)
    save_zip(sdbf, os.path.join(OUT, "unet_bf16.pt"))

    # Non-contiguous tensors and storage offsets: conv_in.weight as a permuted view,
    # the time-embedding biases as slices of one storage.
    nc = dict(sd)
    w = sd["conv_in.weight"]
    nc["conv_in.weight"] = w.permute(2, 3, 0, 1).contiguous().permute(2, 3, 0, 1)
    assert not nc["conv_in.weight"].is_contiguous() and torch.equal(nc["conv_in.weight"], w)
    b1, b2 = sd["time_embedding.linear_1.bias"], sd["time_embedding.linear_2.bias"]
    big = torch.cat([torch.zeros(5), b1, b2])
    nc["time_embedding.linear_1.bias"] = big[5:5 + b1.numel()]
    nc["time_embedding.linear_2.bias"] = big[5 + b1.numel():]
    save_zip(nc, os.path.join(OUT, "unet_zip.bin"))

    # diffusers folders: unet/ + scheduler/ (safetensors), and a flat one with a .bin
    write_safetensors(os.path.join(OUT, "ddpm_folder/unet/diffusion_pytorch_model.safetensors"), sd,
                      {"format": "pt"})
    write_json(os.path.join(OUT, "ddpm_folder/unet/config.json"), unet_config)
    sched2 = dict(sched_config, beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012,
                  variance_type="fixed_large", clip_sample=False, prediction_type="v_prediction")
    write_json(os.path.join(OUT, "ddpm_folder/scheduler/scheduler_config.json"), sched2)
    save_zip(to_old_attention_names(sd), os.path.join(OUT, "ddpm_folder_bin/diffusion_pytorch_model.bin"))
    write_json(os.path.join(OUT, "ddpm_folder_bin/config.json"), unet_config)
    write_json(os.path.join(OUT, "ddpm_folder_bin/scheduler_config.json"), sched_config)

    # A second, different network, pytorch_diffusion layout, no config: inference test
    # (base 8, multipliers (1,2), 2 resnets per level, attention at level 0, no resamp conv,
    # 1 channel in, 2 out)
    cfg2 = {"block_out_channels": [8, 16], "layers_per_block": 2, "down_attn": [1, 0],
            "groups": 8, "eps": 1e-6, "in_channels": 1, "out_channels": 2, "mid_attention": 1}
    pd2 = PDModel(cfg2)
    randomize(pd2, gen, 0.05)
    pd2_sd = {k: v.half() for k, v in pd2.state_dict().items()
              if "downsample" not in k and "upsample" not in k}
    save_zip(pd2_sd, os.path.join(OUT, "pd_avgpool_f16.pt"))
    L2 = len(cfg2["block_out_channels"])
    canon2 = {}
    ref2 = DiffusersUNet(cfg2).state_dict()
    for k in ref2:
        if "downsamplers" in k or "upsamplers" in k:
            continue
        src = [p for p in pd2_sd if pd_to_diffusers_name(p, L2) == k]
        assert len(src) == 1, k
        canon2[k] = pd2_sd[src[0]].reshape(ref2[k].shape)
    write_manifest(canon2, torch.float16, "expected_pd_avgpool_f16")

    # Refusals: a tiny network (base 8, one level, no attention) with defects.
    cfg3 = {"block_out_channels": [8], "layers_per_block": 1, "down_attn": [0], "groups": 4,
            "eps": 1e-6, "in_channels": 3, "out_channels": 3, "mid_attention": 0}
    tiny = DiffusersUNet(cfg3)
    randomize(tiny, gen)
    tsd = {k: v.clone() for k, v in tiny.state_dict().items()}
    write_safetensors(os.path.join(OUT, "bad/tiny_ok.safetensors"), tsd)
    # the same tiny network saved as a whole nn.Module object (torch.save(model)) inside a dict
    torch.save({"ema": tiny, "step": 7}, os.path.join(OUT, "tiny_module.pt"))
    # Full training checkpoints, of the tiny network to stay small: model (raw weights, wrapped
    # by DataParallel), EMA (the expected weights), Adam state, step, config; plus an
    # ema_pytorch-style flat dict.
    write_manifest(tsd, torch.float32, "expected_tiny_f32")
    write_manifest(tsd, torch.float16, "expected_tiny_f16")
    params = [nn.Parameter(v.clone() + 0.5) for v in tsd.values()]
    opt = torch.optim.Adam(params, lr=1e-3)
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen)
    opt.step()
    model_sd = {"module." + k: p.detach().clone() for k, p in zip(tsd.keys(), params)}
    train = {"model": model_sd, "ema": dict(tsd), "optimizer": opt.state_dict(), "step": 1234,
             "config": {"lr": 1e-3, "block_out_channels": [8]}, "rng": torch.get_rng_state()}
    save_zip(train, os.path.join(OUT, "train_ckpt.pt"))
    # ema_pytorch layout (keys ema_model.*, online_model.*, initted, step); EMA f16 to keep it small
    ema_style = {"initted": torch.tensor([True]), "step": torch.tensor([10])}
    for k, p in zip(tsd.keys(), params):
        ema_style["online_model." + k] = p.detach().half()
    for k, v in tsd.items():
        ema_style["ema_model." + k] = v.half()
    save_legacy(ema_style, os.path.join(OUT, "train_ema_pytorch.pt"))

    missing = dict(tsd)
    del missing["mid_block.resnets.1.conv2.weight"]
    write_safetensors(os.path.join(OUT, "bad/missing_tensor.safetensors"), missing)
    shaped = dict(tsd)
    shaped["conv_out.weight"] = torch.zeros(3, 8, 3, 2)
    write_safetensors(os.path.join(OUT, "bad/misshaped_tensor.safetensors"), shaped)
    extra = dict(tsd)
    extra["down_blocks.0.resnets.0.mystery.weight"] = torch.zeros(4)
    write_safetensors(os.path.join(OUT, "bad/unexpected_tensor.safetensors"), extra)
    write_safetensors(os.path.join(OUT, "bad/unknown_layout.safetensors"),
                      {"encoder.layer.0.weight": torch.zeros(4, 4), "decoder.bias": torch.zeros(4)})
    ints = dict(tsd)
    ints["conv_in.bias"] = torch.zeros(8, dtype=torch.int64)
    write_safetensors(os.path.join(OUT, "bad/int_tensor.safetensors"), ints)
    tiny_cfg = dict(unet_config, block_out_channels=[8], down_block_types=["DownBlock2D"],
                    up_block_types=["UpBlock2D"], norm_num_groups=4, add_attention=False,
                    sample_size=8)
    write_json(os.path.join(OUT, "bad/tiny_config.json"), tiny_cfg)
    bad = {
        "time_embedding_fourier": {"time_embedding_type": "fourier"},
        "scale_shift": {"resnet_time_scale_shift": "scale_shift"},
        "class_embed": {"class_embed_type": "timestep"},
        "num_class_embeds": {"num_class_embeds": 10},
        "act_gelu": {"act_fn": "gelu"},
        "downsample_resnet": {"downsample_type": "resnet"},
        "upsample_resnet": {"upsample_type": "resnet"},
        "skip_block": {"down_block_types": ["SkipDownBlock2D"]},
        "mid_scale": {"mid_block_scale_factor": 2},
        "unknown_key": {"some_future_switch": True},
        "wrong_channels": {"block_out_channels": [16]},
    }
    for name, patch in bad.items():
        write_json(os.path.join(OUT, "configs", "bad_" + name + ".json"), dict(tiny_cfg, **patch))
    write_json(os.path.join(OUT, "configs", "bad_attn_groups.json"),
               dict(unet_config, attn_norm_num_groups=4))
    with open(os.path.join(OUT, "configs", "bad_syntax.json"), "w") as f:
        f.write('{"block_out_channels": [8,, 16]}\n')
    ok = dict(tiny_cfg, dropout=0.1, center_input_sample=True, flip_sin_to_cos=True, freq_shift=0,
              attention_head_dim=4, act_fn="swish")
    write_json(os.path.join(OUT, "configs", "ok_variants.json"), ok)

    # Schedules: every beta_schedule, torch's betas and alphas_cumprod
    write_schedule("linear_default", {"num_train_timesteps": 1000, "beta_start": 0.0001,
                                      "beta_end": 0.02, "beta_schedule": "linear"})
    write_schedule("linear_odd", {"num_train_timesteps": 37, "beta_start": 0.0003,
                                  "beta_end": 0.05, "beta_schedule": "linear", "clip_sample": False,
                                  "variance_type": "fixed_small_log"})
    write_schedule("linear_4000", {"num_train_timesteps": 4000, "beta_start": 0.00002,
                                   "beta_end": 0.01, "beta_schedule": "linear"})
    write_schedule("scaled_linear", {"num_train_timesteps": 1000, "beta_start": 0.00085,
                                     "beta_end": 0.012, "beta_schedule": "scaled_linear",
                                     "prediction_type": "v_prediction"})
    write_schedule("squaredcos", {"num_train_timesteps": 1000, "beta_schedule": "squaredcos_cap_v2",
                                  "clip_sample_range": 2.5, "prediction_type": "sample"})
    write_schedule("squaredcos_250", {"num_train_timesteps": 250, "beta_schedule": "squaredcos_cap_v2"})
    tb = (torch.rand(50, generator=gen, dtype=torch.float64) * 0.05 + 1e-4).tolist()
    write_schedule("trained", {"num_train_timesteps": 50, "beta_schedule": "linear",
                               "trained_betas": tb})

    # torch.linspace(start, end, n, float32) for many ranges and lengths (both directions,
    # lengths around the 16-wide vector blocks and the n/2 split)
    lrng = np.random.default_rng(7)
    cases = [(1e-4, 0.02, 1000), (0.00085 ** 0.5, 0.012 ** 0.5, 1000), (-1.0, 1.0, 33), (5.0, -3.0, 47)]
    for _ in range(80):
        n = int(lrng.integers(2, 400))
        a, b = float(lrng.uniform(-1, 1)), float(lrng.uniform(-1, 1)) * 10 ** float(lrng.uniform(-4, 1))
        cases.append((a, b, n))
    for n in (2, 3, 15, 16, 17, 31, 32, 33, 47, 48, 49):
        cases.append((0.001, 0.3, n))
    blob = struct.pack("<I", len(cases))
    for a, b, n in cases:
        blob += struct.pack("<ddi", a, b, n) + tensor_bytes(torch.linspace(a, b, n, dtype=torch.float32))
    with open(os.path.join(OUT, "linspace_cases.raw"), "wb") as f:
        f.write(blob)

    # dtype conversion edge cases: f32 and f64 values and torch's f16/bf16/f32 of them
    sp = [0.0, -0.0, 1.0, -1.0, 65504.0, 65505.0, 65519.0, 65520.0, 1e9, -1e9, 6.1e-5, 6.0e-8,
          2.98e-8, 5.96e-8, 1e-10, -3e-8, 1.0009765625, 1.00048828125, 1.000732421875,
          1.0029296875, 3.3895313892515355e38, 3.4e38, 1.0039062, 1.00390625, 1.01171875,
          1.0078125, 1 + 2 ** -11 + 2 ** -40, 1 + 2 ** -8 + 2 ** -40,  # rounded twice by torch
          9.183549615799121e-41, 1.1754943508222875e-38, float("inf"), float("-inf"),
          float("nan"), -float("nan")]
    r = torch.randn(200, generator=gen, dtype=torch.float64) * torch.exp(
        torch.randn(200, generator=gen, dtype=torch.float64) * 8)
    vals64 = torch.cat([torch.tensor(sp, dtype=torch.float64), r])
    vals32 = vals64.float()
    blob = b""
    for t in (vals32, vals32.half(), vals32.bfloat16(), vals64, vals64.float(), vals64.half(),
              vals64.bfloat16()):
        blob += tensor_bytes(t)
    with open(os.path.join(OUT, "dtype_cases.raw"), "wb") as f:
        f.write(struct.pack("<I", vals64.numel()) + blob)

    total = 0
    for root, _, files in os.walk(OUT):
        for fn in files:
            total += os.path.getsize(os.path.join(root, fn))
    print("wrote %s: %d bytes; main net %d params" % (OUT, total, sum(v.numel() for v in sd.values())))


if __name__ == "__main__":
    main()
