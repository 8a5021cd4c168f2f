# bench_input.py — the benchmark's input batch, defined bit-exactly so that bench_unet.c,
# torch_bench.py and ort_bench.js feed every runtime the same numbers without a file:
# x[i] = (hash32(i) >> 8) / 2^23 - 1 (exact in f32, uniform in [-1, 1)),
# t[j] = (999 - 137 j) mod 1000. hash32 is a murmur-style 32-bit mixer.
import numpy as np

M = 0xFFFFFFFF


def hash32(i):
    u = (i * 0x9E3779B1 + 0x7F4A7C15) & M
    u ^= u >> 15
    u = (u * 0x2C1B3C6D) & M
    u ^= u >> 12
    u = (u * 0x297A2D39) & M
    u ^= u >> 15
    return u


def make(n, c=3, s=32):
    i = np.arange(n * c * s * s, dtype=np.uint64)
    u = hash32(i)
    x = ((u >> np.uint64(8)).astype(np.int64) - (1 << 23)).astype(np.float32) / np.float32(1 << 23)
    t = np.array([(999 - 137 * j) % 1000 for j in range(n)], dtype=np.float32)
    return x.reshape(n, c, s, s), t
