# unet_torch.py — a PyTorch mirror of diffusers UNet2DModel for the DDPM UNet family
# (unet_2d.py, unet_2d_blocks.py, resnet.py, embeddings.py, attention_processor.py), with
# runtime/src/unet_spec.c's parameter names; the benchmark's fallback when
# tests/reference/unet_ref.py is not there. Config keys as flatfile.CONFIG_FIELDS.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class Resnet(nn.Module):
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
    def __init__(self, ch, groups, eps, head_dim):
        super().__init__()
        self.heads = ch // head_dim if head_dim else 1
        self.group_norm = nn.GroupNorm(groups, ch, eps=eps)
        self.to_q, self.to_k, self.to_v = nn.Linear(ch, ch), nn.Linear(ch, ch), nn.Linear(ch, ch)
        self.to_out = nn.ModuleList([nn.Linear(ch, ch)])

    def forward(self, x):
        n, c, h, w = x.shape
        y = self.group_norm(x).reshape(n, c, h * w).transpose(1, 2)  # n, hw, c
        d = c // self.heads

        def split(t):  # n, hw, c -> n*heads, hw, d
            return t.reshape(n, h * w, self.heads, d).permute(0, 2, 1, 3).reshape(n * self.heads, h * w, d)

        q, k, v = split(self.to_q(y)), split(self.to_k(y)), split(self.to_v(y))
        p = torch.softmax(torch.bmm(q, k.transpose(1, 2)) * (d ** -0.5), dim=-1)
        o = torch.bmm(p, v).reshape(n, self.heads, h * w, d).permute(0, 2, 1, 3).reshape(n, h * w, c)
        o = self.to_out[0](o).transpose(1, 2).reshape(n, c, h, w)
        return o + x


class Down(nn.Module):
    def __init__(self, ch, pad, avgpool):
        super().__init__()
        self.pad, self.avgpool = pad, avgpool
        if not avgpool:
            self.conv = nn.Conv2d(ch, ch, 3, stride=2, padding=pad)

    def forward(self, x):
        if self.avgpool:
            return F.avg_pool2d(x, 2)
        if self.pad == 0:
            x = F.pad(x, (0, 1, 0, 1))
        return self.conv(x)


class Up(nn.Module):
    def __init__(self, ch, with_conv):
        super().__init__()
        self.conv = nn.Conv2d(ch, ch, 3, padding=1) if with_conv else None

    def forward(self, x):
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        return self.conv(x) if self.conv is not None else x


class Block(nn.Module):
    pass


class TimeEmbedding(nn.Module):
    def __init__(self, c0, temb):
        super().__init__()
        self.linear_1, self.linear_2 = nn.Linear(c0, temb), nn.Linear(temb, temb)

    def forward(self, x):
        return self.linear_2(F.silu(self.linear_1(x)))


class UNet(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        L, chs = cfg["n_levels"], list(cfg["block_out_channels"])
        g, ag, eps, hd = cfg["norm_num_groups"], cfg["attn_norm_num_groups"], cfg["norm_eps"], cfg["attention_head_dim"]
        temb, c0 = cfg["time_embed_dim"], chs[0]
        avgpool = cfg["downsample_type"] == 1
        self.conv_in = nn.Conv2d(cfg["in_channels"], c0, 3, padding=1)
        self.time_embedding = TimeEmbedding(c0, temb)
        self.down_blocks = nn.ModuleList()
        ch = c0
        for l in range(L):
            b = Block()
            b.resnets, b.attentions = nn.ModuleList(), nn.ModuleList()
            for j in range(cfg["layers_per_block"]):
                b.resnets.append(Resnet(ch, chs[l], temb, g, eps))
                ch = chs[l]
                if cfg["down_attn"][l]:
                    b.attentions.append(Attention(ch, ag, eps, hd))
            if l != L - 1:
                b.downsamplers = nn.ModuleList([Down(ch, cfg["downsample_padding"], avgpool)])
            self.down_blocks.append(b)
        self.mid_block = Block()
        self.mid_block.resnets = nn.ModuleList([Resnet(ch, ch, temb, g, eps), Resnet(ch, ch, temb, g, eps)])
        self.mid_block.attentions = nn.ModuleList([Attention(ch, ag, eps, hd)] if cfg["mid_attention"] else [])
        self.up_blocks = nn.ModuleList()
        rev = chs[::-1]
        out = rev[0]
        for i in range(L):
            prev, out, inp = out, rev[i], rev[min(i + 1, L - 1)]
            b = Block()
            b.resnets, b.attentions = nn.ModuleList(), nn.ModuleList()
            nl = cfg["layers_per_block"] + 1
            for j in range(nl):
                skip = inp if j == nl - 1 else out
                b.resnets.append(Resnet((prev if j == 0 else out) + skip, out, temb, g, eps))
                if cfg["up_attn"][i]:
                    b.attentions.append(Attention(out, ag, eps, hd))
            if i != L - 1:
                b.upsamplers = nn.ModuleList([Up(out, not avgpool)])
            self.up_blocks.append(b)
        self.conv_norm_out = nn.GroupNorm(g, c0, eps=eps)
        self.conv_out = nn.Conv2d(c0, cfg["out_channels"], 3, padding=1)

    def time_proj(self, t):
        c0 = self.cfg["block_out_channels"][0]
        half = c0 // 2
        expo = -math.log(10000.0) * torch.arange(0, half, dtype=torch.float32) / (half - self.cfg["freq_shift"])
        e = t[:, None].float() * torch.exp(expo)[None, :]
        e = torch.cat([torch.sin(e), torch.cos(e)], dim=-1)
        if self.cfg["flip_sin_to_cos"]:
            e = torch.cat([e[:, half:], e[:, :half]], dim=-1)
        return e

    def forward(self, x, t):
        if self.cfg["center_input_sample"]:
            x = 2 * x - 1.0
        temb = self.time_embedding(self.time_proj(t))
        h = self.conv_in(x)
        skips = [h]
        for b in self.down_blocks:
            for j, r in enumerate(b.resnets):
                h = r(h, temb)
                if len(b.attentions):
                    h = b.attentions[j](h)
                skips.append(h)
            if hasattr(b, "downsamplers"):
                h = b.downsamplers[0](h)
                skips.append(h)
        m = self.mid_block
        h = m.resnets[0](h, temb)
        if len(m.attentions):
            h = m.attentions[0](h)
        h = m.resnets[1](h, temb)
        for b in self.up_blocks:
            for j, r in enumerate(b.resnets):
                h = r(torch.cat([h, skips.pop()], dim=1), temb)
                if len(b.attentions):
                    h = b.attentions[j](h)
            if hasattr(b, "upsamplers"):
                h = b.upsamplers[0](h)
        return self.conv_out(F.silu(self.conv_norm_out(h)))


def ddpm_cifar10_config():
    """google/ddpm-cifar10-32 (as runtime/src/unet_spec.c unet_config_default)."""
    return dict(in_channels=3, out_channels=3, sample_size=32, n_levels=4,
                block_out_channels=[128, 256, 256, 256], down_attn=[0, 1, 0, 0], up_attn=[0, 0, 1, 0],
                layers_per_block=2, norm_num_groups=32, attn_norm_num_groups=32, norm_eps=1e-6,
                attention_head_dim=0, mid_attention=1, flip_sin_to_cos=0, freq_shift=1.0,
                time_embed_dim=512, downsample_type=0, downsample_padding=0, center_input_sample=0)
