# unet_ref.py — PyTorch mirrors of the DDPM UNet for fixtures: diffusers UNet2DModel for
# this family (unet_2d.py, unet_2d_blocks.py, resnet.py, embeddings.py,
# attention_processor.py) and pesser/pytorch_diffusion's Model (model.py), each loading its
# own state-dict layout strictly. Transcribed from the originals; torch 1.13, no diffusers.
#
# API (other fixture scripts import this module):
#   m = UNet2D(config)               config: a diffusers config.json-style dict (see below);
#                                    load_config("config.json") reads one
#   m.load_state_dict(sd, strict=True)  diffusers names (to_q/to_k/to_v/to_out.0);
#                                    rename_legacy_keys(sd) maps query/key/value/proj_attn
#   eps = m(x, t)                    x [n,c,s,s] f32, t: number or [n] tensor (float ok)
#   eps = m(x, t, record=d)          also fills d[name] = intermediate (see INTERMEDIATES)
#   p = PDModel(ch, out_ch, ch_mult, num_res_blocks, attn_resolutions, resamp_with_conv,
#               in_channels, resolution[, groups]); p(x, t)   pytorch_diffusion's layout
#   pd_to_diffusers(sd_pd, n_levels, layers_per_block) -> diffusers-named state dict
#   sculpt_config(config) -> dict of sculpt_config fields (for the flat weight file)
#
# Config keys (diffusers names and defaults of google/ddpm-cifar10-32 where it differs):
# in_channels, out_channels, sample_size, block_out_channels, down_block_types,
# up_block_types, layers_per_block, norm_num_groups, attn_norm_num_groups (None: mid
# attention uses norm_num_groups; down/up attentions always use norm_num_groups, as in
# diffusers), norm_eps, attention_head_dim (None: one head), add_attention, flip_sin_to_cos,
# freq_shift, downsample_padding, center_input_sample, and the sculpt extension
# resamp_with_conv (default True; False = pytorch_diffusion's avg-pool down / plain nearest
# up, which diffusers' UNet2DModel cannot express).
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

DEFAULT_CONFIG = dict(
    in_channels=3, out_channels=3, sample_size=32,
    block_out_channels=(128, 256, 256, 256),
    down_block_types=("DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"),
    layers_per_block=2, norm_num_groups=32, attn_norm_num_groups=None, norm_eps=1e-6,
    attention_head_dim=None, add_attention=True, flip_sin_to_cos=False, freq_shift=1,
    downsample_padding=0, center_input_sample=False, resamp_with_conv=True,
    mid_block_scale_factor=1, act_fn="silu", time_embedding_type="positional",
    resnet_time_scale_shift="default",
)


# config.json keys that do not change this family's forward pass (or only name things)
_IGNORED = {"_class_name", "_diffusers_version", "_name_or_path", "dropout", "num_train_timesteps"}
# keys outside the family: accepted only with these values
_FIXED = {"class_embed_type": None, "num_class_embeds": None, "downsample_type": "conv",
          "upsample_type": "conv", "attention_legacy_order": False}


def full_config(config):
    """Defaults filled in; raises ValueError for anything outside the DDPM family."""
    c = dict(DEFAULT_CONFIG)
    for k, v in config.items():
        if k in _IGNORED:
            continue
        if k in _FIXED:
            if v != _FIXED[k]:
                raise ValueError(f"{k}={v!r} is outside the DDPM family this mirror covers")
            continue
        if k not in DEFAULT_CONFIG:
            raise ValueError(f"unknown config key {k!r}")
        c[k] = v
    if isinstance(c["sample_size"], (list, tuple)):
        if len(set(c["sample_size"])) != 1:
            raise ValueError(f"non-square sample_size {c['sample_size']}")
        c["sample_size"] = c["sample_size"][0]
    for k, want in (("mid_block_scale_factor", 1), ("act_fn", "silu"),
                    ("time_embedding_type", "positional"), ("resnet_time_scale_shift", "default")):
        if c[k] != want:
            raise ValueError(f"{k}={c[k]!r} is outside the DDPM family this mirror covers")
    return c


def load_config(path):
    """A diffusers config.json as a mirror config dict."""
    import json
    with open(path) as f:
        return full_config(json.load(f))


def get_timestep_embedding(timesteps, embedding_dim, flip_sin_to_cos, downscale_freq_shift,
                           scale=1.0, max_period=10000):
    # diffusers embeddings.py get_timestep_embedding, float32 throughout
    half_dim = embedding_dim // 2
    exponent = -math.log(max_period) * torch.arange(0, half_dim, dtype=torch.float32)
    exponent = exponent / (half_dim - downscale_freq_shift)
    emb = torch.exp(exponent)
    emb = timesteps[:, None].float() * emb[None, :]
    emb = scale * emb
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=-1)
    if flip_sin_to_cos:
        emb = torch.cat([emb[:, half_dim:], emb[:, :half_dim]], dim=-1)
    if embedding_dim % 2 == 1:
        emb = F.pad(emb, (0, 1, 0, 0))
    return emb


class TimestepEmbedding(nn.Module):
    def __init__(self, cin, dim):
        super().__init__()
        self.linear_1 = nn.Linear(cin, dim)
        self.linear_2 = nn.Linear(dim, dim)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, temb, groups, eps):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=eps, affine=True)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=1, padding=1)
        self.time_emb_proj = nn.Linear(temb, cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=eps, affine=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.time_emb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(F.silu(self.norm2(h)))
        if self.conv_shortcut is not None:
            x = self.conv_shortcut(x)
        return (x + h) / 1.0


class Attention(nn.Module):
    # attention_processor.py Attention + AttnProcessor with residual_connection=True,
    # upcast_softmax, rescale_output_factor=1, _from_deprecated_attn_block
    def __init__(self, ch, head_dim, groups, eps):
        super().__init__()
        self.heads = ch // head_dim
        self.dim_head = head_dim
        self.scale = head_dim ** -0.5
        self.group_norm = nn.GroupNorm(groups, ch, eps=eps, affine=True)
        self.to_q = nn.Linear(ch, ch)
        self.to_k = nn.Linear(ch, ch)
        self.to_v = nn.Linear(ch, ch)
        self.to_out = nn.ModuleList([nn.Linear(ch, ch), nn.Dropout(0.0)])

    def head_to_batch_dim(self, t):
        b, s, d = t.shape
        h = self.heads
        return t.reshape(b, s, h, d // h).permute(0, 2, 1, 3).reshape(b * h, s, d // h)

    def batch_to_head_dim(self, t):
        bh, s, d = t.shape
        h = self.heads
        return t.reshape(bh // h, h, s, d).permute(0, 2, 1, 3).reshape(bh // h, s, d * h)

    def forward(self, x):
        residual = x
        b, c, hh, ww = x.shape
        hs = x.view(b, c, hh * ww).transpose(1, 2)
        hs = self.group_norm(hs.transpose(1, 2)).transpose(1, 2)
        q = self.head_to_batch_dim(self.to_q(hs))
        k = self.head_to_batch_dim(self.to_k(hs))
        v = self.head_to_batch_dim(self.to_v(hs))
        base = torch.empty(q.shape[0], q.shape[1], k.shape[1], dtype=q.dtype)
        scores = torch.baddbmm(base, q, k.transpose(-1, -2), beta=0, alpha=self.scale)
        probs = scores.float().softmax(dim=-1).to(q.dtype)
        hs = self.batch_to_head_dim(torch.bmm(probs, v))
        hs = self.to_out[1](self.to_out[0](hs))
        hs = hs.transpose(-1, -2).reshape(b, c, hh, ww)
        return (hs + residual) / 1.0


class Downsample2D(nn.Module):
    def __init__(self, ch, use_conv, padding):
        super().__init__()
        self.use_conv, self.padding = use_conv, padding
        if use_conv:
            self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=padding)

    def forward(self, x):
        if not self.use_conv:
            return F.avg_pool2d(x, kernel_size=2, stride=2)
        if self.padding == 0:
            x = F.pad(x, (0, 1, 0, 1), mode="constant", value=0)
        return self.conv(x)


class Upsample2D(nn.Module):
    def __init__(self, ch, use_conv):
        super().__init__()
        self.use_conv = use_conv
        if use_conv:
            self.conv = nn.Conv2d(ch, ch, 3, padding=1)

    def forward(self, x):
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        return self.conv(x) if self.use_conv else x


class DownBlock(nn.Module):
    # DownBlock2D / AttnDownBlock2D: attentions use the resnet groups (diffusers)
    def __init__(self, cin, cout, temb, n, attn, down, c):
        super().__init__()
        g, eps = c["norm_num_groups"], c["norm_eps"]
        hd = c["attention_head_dim"] or cout
        self.resnets = nn.ModuleList([ResnetBlock2D(cin if i == 0 else cout, cout, temb, g, eps)
                                      for i in range(n)])
        if attn:
            self.attentions = nn.ModuleList([Attention(cout, hd, g, eps) for _ in range(n)])
        else:
            self.attentions = None
        if down:
            self.downsamplers = nn.ModuleList([Downsample2D(cout, c["resamp_with_conv"],
                                                            c["downsample_padding"])])
        else:
            self.downsamplers = None

    def forward(self, x, temb):
        outs = ()
        for i, r in enumerate(self.resnets):
            x = r(x, temb)
            if self.attentions is not None:
                x = self.attentions[i](x)
            outs += (x,)
        if self.downsamplers is not None:
            x = self.downsamplers[0](x)
            outs += (x,)
        return x, outs


class UpBlock(nn.Module):
    # UpBlock2D / AttnUpBlock2D: resnet i takes cat([h, skip]); see unet_spec.c arithmetic
    def __init__(self, cin, prev, cout, temb, n, attn, up, c):
        super().__init__()
        g, eps = c["norm_num_groups"], c["norm_eps"]
        hd = c["attention_head_dim"] or cout
        rs = []
        for i in range(n):
            skip = cin if i == n - 1 else cout
            rin = prev if i == 0 else cout
            rs.append(ResnetBlock2D(rin + skip, cout, temb, g, eps))
        self.resnets = nn.ModuleList(rs)
        self.attentions = nn.ModuleList([Attention(cout, hd, g, eps) for _ in range(n)]) if attn else None
        self.upsamplers = nn.ModuleList([Upsample2D(cout, c["resamp_with_conv"])]) if up else None

    def forward(self, x, skips, temb):
        for i, r in enumerate(self.resnets):
            s = skips[-1]
            skips = skips[:-1]
            x = r(torch.cat([x, s], dim=1), temb)
            if self.attentions is not None:
                x = self.attentions[i](x)
        if self.upsamplers is not None:
            x = self.upsamplers[0](x)
        return x


class MidBlock(nn.Module):
    def __init__(self, ch, temb, c):
        super().__init__()
        g, eps = c["norm_num_groups"], c["norm_eps"]
        ag = c["attn_norm_num_groups"] or g
        hd = c["attention_head_dim"] or ch
        self.resnets = nn.ModuleList([ResnetBlock2D(ch, ch, temb, g, eps) for _ in range(2)])
        self.attentions = nn.ModuleList([Attention(ch, hd, ag, eps)]) if c["add_attention"] else None

    def forward(self, x, temb):
        x = self.resnets[0](x, temb)
        if self.attentions is not None:
            x = self.attentions[0](x)
        return self.resnets[1](x, temb)


INTERMEDIATES = "time_embedding, conv_in, down_blocks.i, mid_block, up_blocks.i, conv_act"


class UNet2D(nn.Module):
    def __init__(self, config):
        super().__init__()
        c = full_config(config)
        self.config = c
        boc = list(c["block_out_channels"])
        L = len(boc)
        temb = boc[0] * 4
        self.conv_in = nn.Conv2d(c["in_channels"], boc[0], 3, padding=1)
        self.time_embedding = TimestepEmbedding(boc[0], temb)
        self.down_blocks = nn.ModuleList()
        ch = boc[0]
        for i, kind in enumerate(c["down_block_types"]):
            assert kind in ("DownBlock2D", "AttnDownBlock2D"), kind
            self.down_blocks.append(DownBlock(ch, boc[i], temb, c["layers_per_block"],
                                              kind == "AttnDownBlock2D", i != L - 1, c))
            ch = boc[i]
        self.mid_block = MidBlock(boc[-1], temb, c)
        self.up_blocks = nn.ModuleList()
        rev = boc[::-1]
        out = rev[0]
        for i, kind in enumerate(c["up_block_types"]):
            assert kind in ("UpBlock2D", "AttnUpBlock2D"), kind
            prev, out = out, rev[i]
            cin = rev[min(i + 1, L - 1)]
            self.up_blocks.append(UpBlock(cin, prev, out, temb, c["layers_per_block"] + 1,
                                          kind == "AttnUpBlock2D", i != L - 1, c))
        self.conv_norm_out = nn.GroupNorm(c["norm_num_groups"], boc[0], eps=c["norm_eps"])
        self.conv_out = nn.Conv2d(boc[0], c["out_channels"], 3, padding=1)

    def forward(self, x, t, record=None):
        c = self.config
        rec = record if record is not None else {}
        if c["center_input_sample"]:
            x = 2 * x - 1.0
        if not torch.is_tensor(t):
            t = torch.tensor([t], dtype=torch.long)
        elif t.dim() == 0:
            t = t[None]
        t = t * torch.ones(x.shape[0], dtype=t.dtype)
        boc0 = c["block_out_channels"][0]
        emb = self.time_embedding(get_timestep_embedding(t, boc0, c["flip_sin_to_cos"], c["freq_shift"]))
        rec["time_embedding"] = emb
        h = self.conv_in(x)
        rec["conv_in"] = h
        skips = (h,)
        for i, blk in enumerate(self.down_blocks):
            h, o = blk(h, emb)
            skips += o
            rec[f"down_blocks.{i}"] = h
        h = self.mid_block(h, emb)
        rec["mid_block"] = h
        for i, blk in enumerate(self.up_blocks):
            n = len(blk.resnets)
            s, skips = skips[-n:], skips[:-n]
            h = blk(h, s, emb)
            rec[f"up_blocks.{i}"] = h
        h = F.silu(self.conv_norm_out(h))
        rec["conv_act"] = h
        return self.conv_out(h)


def rename_legacy_keys(sd):
    """Old diffusers attention names (query/key/value/proj_attn) to the new ones, as
    modeling_utils._fix_state_dict_keys_on_load does."""
    ren = {"query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"}
    out = {}
    for k, v in sd.items():
        parts = k.split(".")
        if len(parts) >= 2 and "attentions" in parts and parts[-2] in ren:
            parts[-2] = ren[parts[-2]]
            k = ".".join(parts)
        out[k] = v
    return out


def sculpt_config(config):
    """The sculpt_config fields (sculpt.h) for a mirror config, in file order."""
    c = full_config(config)
    boc = list(c["block_out_channels"])
    L = len(boc)
    pad8 = lambda a: list(a) + [0] * (8 - len(a))
    return dict(
        in_channels=c["in_channels"], out_channels=c["out_channels"], sample_size=c["sample_size"],
        n_levels=L, block_out_channels=pad8(boc),
        down_attn=pad8([int(k == "AttnDownBlock2D") for k in c["down_block_types"]]),
        up_attn=pad8([int(k == "AttnUpBlock2D") for k in c["up_block_types"]]),
        layers_per_block=c["layers_per_block"], norm_num_groups=c["norm_num_groups"],
        attn_norm_num_groups=c["attn_norm_num_groups"] or c["norm_num_groups"],
        norm_eps=float(c["norm_eps"]), attention_head_dim=c["attention_head_dim"] or 0,
        mid_attention=int(bool(c["add_attention"])), flip_sin_to_cos=int(bool(c["flip_sin_to_cos"])),
        freq_shift=float(c["freq_shift"]), time_embed_dim=4 * boc[0],
        downsample_type=0 if c["resamp_with_conv"] else 1,
        downsample_padding=c["downsample_padding"],
        center_input_sample=int(bool(c["center_input_sample"])))


# ---------------- pesser/pytorch_diffusion Model ----------------

def pd_timestep_embedding(timesteps, embedding_dim):
    half_dim = embedding_dim // 2
    emb = math.log(10000) / (half_dim - 1)
    emb = torch.exp(torch.arange(half_dim, dtype=torch.float32) * -emb)
    emb = timesteps.float()[:, None] * emb[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=1)
    if embedding_dim % 2 == 1:
        emb = F.pad(emb, (0, 1, 0, 0))
    return emb


def pd_norm(ch, groups=32):
    # pytorch_diffusion's Normalize has 32 groups; `groups` lets tiny fixtures shrink it
    return nn.GroupNorm(num_groups=groups, num_channels=ch, eps=1e-6, affine=True)


class PDUpsample(nn.Module):
    def __init__(self, ch, with_conv):
        super().__init__()
        self.with_conv = with_conv
        if with_conv:
            self.conv = nn.Conv2d(ch, ch, 3, 1, 1)

    def forward(self, x):
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        return self.conv(x) if self.with_conv else x


class PDDownsample(nn.Module):
    def __init__(self, ch, with_conv):
        super().__init__()
        self.with_conv = with_conv
        if with_conv:
            self.conv = nn.Conv2d(ch, ch, 3, 2, 0)

    def forward(self, x):
        if self.with_conv:
            return self.conv(F.pad(x, (0, 1, 0, 1), mode="constant", value=0))
        return F.avg_pool2d(x, kernel_size=2, stride=2)


class PDResnetBlock(nn.Module):
    def __init__(self, cin, cout, temb, groups=32):
        super().__init__()
        self.norm1 = pd_norm(cin, groups)
        self.conv1 = nn.Conv2d(cin, cout, 3, 1, 1)
        self.temb_proj = nn.Linear(temb, cout)
        self.norm2 = pd_norm(cout, groups)
        self.dropout = nn.Dropout(0.0)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        if cin != cout:
            self.nin_shortcut = nn.Conv2d(cin, cout, 1, 1, 0)
        self.cin, self.cout = cin, cout

    def forward(self, x, temb):
        h = self.conv1(F.silu(self.norm1(x)))
        h = h + self.temb_proj(F.silu(temb))[:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        if self.cin != self.cout:
            x = self.nin_shortcut(x)
        return x + h


class PDAttnBlock(nn.Module):
    def __init__(self, ch, groups=32):
        super().__init__()
        self.norm = pd_norm(ch, groups)
        self.q = nn.Conv2d(ch, ch, 1)
        self.k = nn.Conv2d(ch, ch, 1)
        self.v = nn.Conv2d(ch, ch, 1)
        self.proj_out = nn.Conv2d(ch, ch, 1)

    def forward(self, x):
        h_ = self.norm(x)
        q, k, v = self.q(h_), self.k(h_), self.v(h_)
        b, c, h, w = q.shape
        q = q.reshape(b, c, h * w).permute(0, 2, 1)
        k = k.reshape(b, c, h * w)
        w_ = torch.bmm(q, k) * (int(c) ** (-0.5))
        w_ = F.softmax(w_, dim=2)
        v = v.reshape(b, c, h * w)
        h_ = torch.bmm(v, w_.permute(0, 2, 1)).reshape(b, c, h, w)
        return x + self.proj_out(h_)


class PDModel(nn.Module):
    def __init__(self, ch, out_ch, ch_mult, num_res_blocks, attn_resolutions,
                 resamp_with_conv=True, in_channels=3, resolution=32, groups=32):
        super().__init__()
        self.ch, self.temb_ch = ch, ch * 4
        self.num_resolutions = len(ch_mult)
        self.num_res_blocks = num_res_blocks
        self.temb = nn.Module()
        self.temb.dense = nn.ModuleList([nn.Linear(ch, self.temb_ch), nn.Linear(self.temb_ch, self.temb_ch)])
        self.conv_in = nn.Conv2d(in_channels, ch, 3, 1, 1)
        cur = resolution
        in_mult = (1,) + tuple(ch_mult)
        self.down = nn.ModuleList()
        for il in range(self.num_resolutions):
            block, attn = nn.ModuleList(), nn.ModuleList()
            bin_, bout = ch * in_mult[il], ch * ch_mult[il]
            for _ in range(num_res_blocks):
                block.append(PDResnetBlock(bin_, bout, self.temb_ch, groups))
                bin_ = bout
                if cur in attn_resolutions:
                    attn.append(PDAttnBlock(bin_, groups))
            d = nn.Module()
            d.block, d.attn = block, attn
            if il != self.num_resolutions - 1:
                d.downsample = PDDownsample(bin_, resamp_with_conv)
                cur //= 2
            self.down.append(d)
        self.mid = nn.Module()
        self.mid.block_1 = PDResnetBlock(bin_, bin_, self.temb_ch, groups)
        self.mid.attn_1 = PDAttnBlock(bin_, groups)
        self.mid.block_2 = PDResnetBlock(bin_, bin_, self.temb_ch, groups)
        self.up = nn.ModuleList()
        for il in reversed(range(self.num_resolutions)):
            block, attn = nn.ModuleList(), nn.ModuleList()
            bout = ch * ch_mult[il]
            skip_in = ch * ch_mult[il]
            for ib in range(num_res_blocks + 1):
                if ib == num_res_blocks:
                    skip_in = ch * in_mult[il]
                block.append(PDResnetBlock(bin_ + skip_in, bout, self.temb_ch, groups))
                bin_ = bout
                if cur in attn_resolutions:
                    attn.append(PDAttnBlock(bin_, groups))
            u = nn.Module()
            u.block, u.attn = block, attn
            if il != 0:
                u.upsample = PDUpsample(bin_, resamp_with_conv)
                cur *= 2
            self.up.insert(0, u)
        self.norm_out = pd_norm(bin_, groups)
        self.conv_out = nn.Conv2d(bin_, out_ch, 3, 1, 1)

    def forward(self, x, t):
        temb = pd_timestep_embedding(t, self.ch)
        temb = self.temb.dense[1](F.silu(self.temb.dense[0](temb)))
        hs = [self.conv_in(x)]
        for il in range(self.num_resolutions):
            for ib in range(self.num_res_blocks):
                h = self.down[il].block[ib](hs[-1], temb)
                if len(self.down[il].attn) > 0:
                    h = self.down[il].attn[ib](h)
                hs.append(h)
            if il != self.num_resolutions - 1:
                hs.append(self.down[il].downsample(hs[-1]))
        h = hs[-1]
        h = self.mid.block_2(self.mid.attn_1(self.mid.block_1(h, temb)), temb)
        for il in reversed(range(self.num_resolutions)):
            for ib in range(self.num_res_blocks + 1):
                h = self.up[il].block[ib](torch.cat([h, hs.pop()], dim=1), temb)
                if len(self.up[il].attn) > 0:
                    h = self.up[il].attn[ib](h)
            if il != 0:
                h = self.up[il].upsample(h)
        return self.conv_out(F.silu(self.norm_out(h)))


def pd_to_diffusers(sd, n_levels, layers_per_block):
    """pytorch_diffusion names -> diffusers names (1x1-conv attention -> [C, C] linear)."""
    out = {}
    res = {"norm1": "norm1", "conv1": "conv1", "temb_proj": "time_emb_proj", "norm2": "norm2",
           "conv2": "conv2", "nin_shortcut": "conv_shortcut"}
    att = {"norm": "group_norm", "q": "to_q", "k": "to_k", "v": "to_v", "proj_out": "to_out.0"}
    for k, v in sd.items():
        p = k.split(".")
        if p[0] == "temb":
            nk = f"time_embedding.linear_{int(p[2]) + 1}.{p[3]}"
        elif p[0] in ("conv_in", "conv_out"):
            nk = k
        elif p[0] == "norm_out":
            nk = "conv_norm_out." + p[1]
        elif p[0] == "down":
            lv = p[1]
            if p[2] == "block":
                nk = f"down_blocks.{lv}.resnets.{p[3]}.{res[p[4]]}.{p[5]}"
            elif p[2] == "attn":
                nk = f"down_blocks.{lv}.attentions.{p[3]}.{att[p[4]]}.{p[5]}"
            else:
                nk = f"down_blocks.{lv}.downsamplers.0.conv.{p[4]}"
        elif p[0] == "mid":
            if p[1] == "attn_1":
                nk = f"mid_block.attentions.0.{att[p[2]]}.{p[3]}"
            else:
                nk = f"mid_block.resnets.{int(p[1][-1]) - 1}.{res[p[2]]}.{p[3]}"
        elif p[0] == "up":
            i = n_levels - 1 - int(p[1])
            if p[2] == "block":
                nk = f"up_blocks.{i}.resnets.{p[3]}.{res[p[4]]}.{p[5]}"
            elif p[2] == "attn":
                nk = f"up_blocks.{i}.attentions.{p[3]}.{att[p[4]]}.{p[5]}"
            else:
                nk = f"up_blocks.{i}.upsamplers.0.conv.{p[4]}"
        else:
            raise KeyError(k)
        if ".to_" in nk and v.dim() == 4:
            v = v[:, :, 0, 0]
        out[nk] = v
    return out


def pd_config(ch, out_ch, ch_mult, num_res_blocks, attn_resolutions, resamp_with_conv,
              in_channels, resolution, groups=32):
    """The mirror config equivalent to a pytorch_diffusion Model."""
    L = len(ch_mult)
    res = [resolution // (2 ** i) for i in range(L)]
    return dict(
        in_channels=in_channels, out_channels=out_ch, sample_size=resolution,
        block_out_channels=tuple(ch * m for m in ch_mult),
        down_block_types=tuple("AttnDownBlock2D" if r in attn_resolutions else "DownBlock2D" for r in res),
        up_block_types=tuple("AttnUpBlock2D" if r in attn_resolutions else "UpBlock2D" for r in res[::-1]),
        layers_per_block=num_res_blocks, norm_num_groups=groups, norm_eps=1e-6,
        attention_head_dim=None, add_attention=True, flip_sin_to_cos=False, freq_shift=1,
        downsample_padding=0, resamp_with_conv=resamp_with_conv)
