#!/usr/bin/python3
# make_weights.py — writes the benchmark's full-size google/ddpm-cifar10-32 network with
# random weights (torch default init, seed 0; GroupNorm affine perturbed so it is not the
# identity) as a sculpt flat file: the fallback when tests/reference/make_unet.py --full
# is not there. Usage: /usr/bin/python3 bench/make_weights.py OUT.bin [--seed S]
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flatfile  # noqa: E402
import unet_torch  # noqa: E402


def forward_order(model):
    """Parameter names in runtime/src/unet_spec.c order (resnet j, then attention j)."""
    sd = model.state_dict()
    names = []

    def add(prefix):
        names.extend(k for k in sd if k.startswith(prefix + ".") and k not in names)

    add("conv_in"), add("time_embedding")
    for l, b in enumerate(model.down_blocks):
        for j in range(len(b.resnets)):
            add("down_blocks.%d.resnets.%d" % (l, j))
            if len(b.attentions):
                add("down_blocks.%d.attentions.%d" % (l, j))
        add("down_blocks.%d.downsamplers" % l)
    add("mid_block.resnets.0"), add("mid_block.attentions.0"), add("mid_block.resnets.1")
    for i, b in enumerate(model.up_blocks):
        for j in range(len(b.resnets)):
            add("up_blocks.%d.resnets.%d" % (i, j))
            if len(b.attentions):
                add("up_blocks.%d.attentions.%d" % (i, j))
        add("up_blocks.%d.upsamplers" % i)
    add("conv_norm_out"), add("conv_out")
    assert sorted(names) == sorted(sd), "forward_order missed a parameter"
    return [(k, sd[k]) for k in names]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    cfg = unet_torch.ddpm_cifar10_config()
    model = unet_torch.UNet(cfg)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.GroupNorm):
                m.weight.add_(0.1 * torch.randn_like(m.weight))
                m.bias.add_(0.1 * torch.randn_like(m.bias))
    tensors = {k: v.detach().numpy() for k, v in forward_order(model)}
    meta = {"source": "bench/make_weights.py random init seed %d" % a.seed,
            "model": "google/ddpm-cifar10-32 architecture"}
    flatfile.write(a.out, cfg, tensors, meta)
    print("wrote %s (%d tensors, %.1f M parameters)" % (a.out, len(tensors),
          sum(v.size for v in tensors.values()) / 1e6))


if __name__ == "__main__":
    main()
