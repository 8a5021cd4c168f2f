# flatfile.py — read and write sculpt's flat weight file (runtime/src/format.h,
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
FNV_PRIME, FNV_INIT, M64 = 0x100000001B3, 0xCBF29CE484222325, (1 << 64) - 1


def checksum(buf, state=FNV_INIT):
    """format.h's FNV-1a over little-endian 64-bit words (tail zero-padded), finalised."""
    n = len(buf)
    words = np.frombuffer(buf, dtype="<u8", count=n // 8).tolist()
    if n % 8:
        words.append(int.from_bytes(bytes(buf[n - n % 8:]) + bytes(8 - n % 8), "little"))
    h = state
    for w in words:
        h = ((h ^ w) * FNV_PRIME) & M64
    return h ^ (h >> 32)


def _config_list(cfg):
    out = []
    for key in ("block_out_channels", "down_attn", "up_attn"):
        v = list(cfg[key]) + [0] * (8 - len(cfg[key]))
        cfg = dict(cfg, **{"%s%d" % (key, i): int(v[i]) for i in range(8)})
    for f in CONFIG_FIELDS:
        out.append(struct.pack("<f" if f in FLOAT_FIELDS else "<i", cfg[f]))
    return b"".join(out)


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


def write(path, cfg, tensors, meta=None, T=1000, beta_start=1e-4, beta_end=0.02):
    """Write an f32 flat file: `tensors` is an ordered {name: array} in forward order,
    `cfg` the sculpt_config fields by name (lists for the per-level ones). Linear betas,
    fixed_small variance, clip_sample 1.0, epsilon prediction (google/ddpm-cifar10-32)."""
    import torch  # the schedule is computed as diffusers computes it

    betas = torch.linspace(beta_start, beta_end, T, dtype=torch.float32)
    acp = torch.cumprod(1.0 - betas, dim=0)
    sched_tab = betas.numpy().astype("<f4").tobytes() + acp.numpy().astype("<f4").tobytes()
    meta_txt = "".join("%s=%s\n" % kv for kv in (meta or {}).items()).encode()
    pad = lambda x, a: (x + a - 1) // a * a
    n = len(tensors)
    table_off = HEADER_SIZE
    sched_off = pad(table_off + n * ENTRY_SIZE, 8)
    meta_off = pad(sched_off + len(sched_tab), 8)
    data_off = pad(meta_off + len(meta_txt), ALIGN)
    entries, off = [], data_off
    for name, a in tensors.items():
        a = np.ascontiguousarray(a, dtype="<f4")
        entries.append((name, a, off))
        off = pad(off + a.nbytes, ALIGN)
    file_size = off
    buf = bytearray(file_size)
    buf[0:8] = MAGIC
    struct.pack_into("<IIQQIIQQQQQ", buf, 8, 1, HEADER_SIZE, file_size, table_off, n, ENTRY_SIZE,
                     sched_off, meta_off, len(meta_txt), data_off, file_size - data_off)
    struct.pack_into("<I", buf, 96, 1)
    buf[100:260] = _config_list(cfg)
    buf[288:320] = struct.pack("<iiffiifi", T, 0, beta_start, beta_end, 0, 1, 1.0, 0)
    for i, (name, a, o) in enumerate(entries):
        e = table_off + i * ENTRY_SIZE
        nm = name.encode()
        assert len(nm) < NAME_LEN and a.ndim <= 4
        buf[e:e + len(nm)] = nm
        shape = list(a.shape) + [0] * (4 - a.ndim)
        struct.pack_into("<II4IQQQ", buf, e + 80, 0, a.ndim, *shape, o, a.nbytes, 0)
        buf[o:o + a.nbytes] = a.tobytes()
    buf[sched_off:sched_off + len(sched_tab)] = sched_tab
    buf[meta_off:meta_off + len(meta_txt)] = meta_txt
    struct.pack_into("<Q", buf, 80, checksum(memoryview(buf)[data_off:]))
    struct.pack_into("<Q", buf, 88, checksum(memoryview(buf)[:data_off]))  # field 88 is 0 here
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(buf)
    import os
    os.replace(tmp, path)
