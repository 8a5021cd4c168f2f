# flatfile.py — read sculpt's flat weight file (runtime/src/format.h,
# weights/FORMAT.md) from Python, for the benchmark's PyTorch and ONNX Runtime side.
import struct

import numpy as np

MAGIC = b"SCULPTWF"
HEADER_SIZE, ALIGN, ENTRY_SIZE, NAME_LEN = 512, 64, 128, 80
DTYPES = {0: np.float32, 1: np.float16}  # 2 = bf16, converted by hand below
CONFIG_FIELDS = (
    ["in_channels", "out_channels", "sample_size", "n_levels"]
    + ["block_out_channels%d" % i for i in range(8)]
    + ["down_attn%d" % i for i in range(8)]
    + ["up_attn%d" % i for i in range(8)]
    + ["layers_per_block", "norm_num_groups", "attn_norm_num_groups", "norm_eps",
       "attention_head_dim", "mid_attention", "flip_sin_to_cos", "freq_shift",
       "time_embed_dim", "downsample_type", "downsample_padding", "center_input_sample"])
FLOAT_FIELDS = {"norm_eps", "freq_shift"}
SCHED_FIELDS = ["num_train_timesteps", "beta_schedule", "beta_start", "beta_end",
                "variance_type", "clip_sample", "clip_sample_range", "prediction_type"]
SCHED_FLOATS = {"beta_start", "beta_end", "clip_sample_range"}


def read(path):
    """Return (config dict, schedule dict, metadata dict, {name: np.ndarray f32})."""
    with open(path, "rb") as f:
        buf = f.read()
    if buf[:8] != MAGIC:
        raise ValueError("%s: not a sculpt weight file (magic %r)" % (path, buf[:8]))
    u32 = lambda o: struct.unpack_from("<I", buf, o)[0]
    u64 = lambda o: struct.unpack_from("<Q", buf, o)[0]
    cfg = {}
    for i, f in enumerate(CONFIG_FIELDS):
        cfg[f] = struct.unpack_from("<f" if f in FLOAT_FIELDS else "<i", buf, 100 + 4 * i)[0]
    n_levels = cfg["n_levels"]
    for key in ("block_out_channels", "down_attn", "up_attn"):
        cfg[key] = [cfg.pop("%s%d" % (key, i)) for i in range(8)][:n_levels]
    sched = {}
    for i, f in enumerate(SCHED_FIELDS):
        sched[f] = struct.unpack_from("<f" if f in SCHED_FLOATS else "<i", buf, 288 + 4 * i)[0]
    meta_off, meta_size = u64(48), u64(56)
    meta = dict(l.split("=", 1) for l in buf[meta_off:meta_off + meta_size].decode().splitlines() if "=" in l)
    tensors = {}
    table, n = u64(24), u32(32)
    for i in range(n):
        e = table + i * ENTRY_SIZE
        name = buf[e:e + NAME_LEN].split(b"\0", 1)[0].decode()
        dtype, ndim = u32(e + 80), u32(e + 84)
        shape = [u32(e + 88 + 4 * d) for d in range(ndim)]
        off, nbytes = u64(e + 104), u64(e + 112)
        raw = buf[off:off + nbytes]
        if dtype == 2:
            a = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            a = np.frombuffer(raw, dtype=DTYPES[dtype]).astype(np.float32)
        tensors[name] = a.reshape(shape)
    return cfg, sched, meta, tensors
