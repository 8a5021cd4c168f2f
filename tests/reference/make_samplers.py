#!/usr/bin/python3
"""make_samplers.py - fixtures for tests/sampler (suite 'sampler'), made with Debian's
python3-torch 1.13 and the reference samplers in sampler_ref.py (transcribed from diffusers
and k-diffusion). Run by hand: /usr/bin/python3 tests/reference/make_samplers.py [section..]
Sections: rng schedules steps runs. Writes tests/fixtures/sampler/<section>.bin."""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sampler_ref as R  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'sampler')

RNG_SEEDS = [0, 1, 42, 2**32 + 5, 2**63 + 12345, 2**64 - 1]
RNG_SIZES = [1, 2, 7, 15, 16, 17, 31, 32, 33, 3072]
# Draw sequences: the n < 16 path caches its second value across calls (and across
# n >= 16 draws, which do not touch the cache); manual_seed clears it. 0 = re-seed.
RNG_SEQS = [
    [1, 1, 1],
    [1, 16, 1, 2, 33, 3],
    [3, 20, 5, 16, 7, 1, 48, 15],
    [1, 0, 1, 1],
    [17, 17, 1, 0, 5, 3072, 2],
]


def make_rng():
    a = {}
    for si, s in enumerate(RNG_SEEDS):
        a['seed%d' % si] = np.array([s], dtype=np.uint64).view(np.int64)
        for n in RNG_SIZES:
            torch.manual_seed(s)
            a['s%d_n%d' % (si, n)] = torch.randn(n)
    torch.manual_seed(RNG_SEEDS[2])
    a['s2_n100003'] = torch.randn(100003)
    for qi, seq in enumerate(RNG_SEQS):
        torch.manual_seed(RNG_SEEDS[2])
        vals = []
        for n in seq:
            if n == 0:
                torch.manual_seed(RNG_SEEDS[2])
            else:
                vals.append(torch.randn(n))
        a['seq%d' % qi] = np.array(seq, dtype=np.int32)
        a['seq%d_vals' % qi] = torch.cat(vals)
    # a multi-dimensional draw as the samplers make it (NCHW noise for one 3x32x32 image)
    torch.manual_seed(7)
    a['s7_img'] = torch.randn(1, 3, 32, 32).reshape(-1)
    return a


# schedules: (name, beta_schedule, T, beta_start, beta_end)
SCHEDULES = [('lin', 'linear', 1000, 0.0001, 0.02), ('scl', 'scaled_linear', 1000, 0.00085, 0.012),
             ('cos', 'squaredcos_cap_v2', 1000, 0.0001, 0.02), ('lin50', 'linear', 50, 0.001, 0.1)]
# (spacing, steps, steps_offset) for the timestep tables
SPACING_CASES = [('leading', s, 0) for s in (1, 7, 10, 50, 333, 1000)] + \
                [('leading', s, 1) for s in (10, 50)] + \
                [('trailing', s, 0) for s in (1, 7, 10, 50, 333, 1000)] + \
                [('linspace', s, 0) for s in (1, 2, 7, 10, 50, 333, 1000)]
K_CASES = [('karras', 1, 0, 0, 7.0), ('karras', 10, 0, 0, 7.0), ('karras', 50, 0, 0, 7.0),
           ('karras', 25, 0.002, 80.0, 7.0), ('karras', 20, 0.1, 10.0, 3.0),
           ('exponential', 10, 0, 0, 0), ('exponential', 37, 0.03, 50.0, 0),
           ('discrete', 1, 0, 0, 0), ('discrete', 10, 0, 0, 0), ('discrete', 50, 0, 0, 0),
           ('discrete', 1000, 0, 0, 0)]


def make_schedules():
    a = {}
    for name, bs, T, b0, b1 in SCHEDULES:
        betas = R.make_betas(bs, T, b0, b1)
        ac = R.make_alphas_cumprod(betas)
        den = R.DiscreteEpsDDPMDenoiser(None, ac)
        a[name + '_cfg'] = np.array([R.BETA_SCHEDULES.index(bs), T, b0, b1])
        a[name + '_betas'] = betas
        a[name + '_ac'] = ac
        a[name + '_sigmas'] = den.sigmas
        a[name + '_log_sigmas'] = den.log_sigmas
        if T == 1000:
            for k, (sp, st, off) in enumerate(SPACING_CASES):
                a['%s_ts%d_cfg' % (name, k)] = np.array([R.SPACINGS.index(sp), st, off], dtype=np.int64)
                a['%s_ts%d' % (name, k)] = R.set_timesteps(T, st, sp, off)
        for k, (kind, n, smin, smax, rho) in enumerate(K_CASES):
            o = dict(R.DEFAULTS, steps=n, sigma_schedule=kind, sigma_min=smin, sigma_max=smax, rho=rho)
            a['%s_k%d_cfg' % (name, k)] = np.array([R.SIGMA_SCHEDULES.index(kind), n, smin, smax, rho])
            a['%s_k%d' % (name, k)] = R.k_sigmas(den, o)
        # sigma -> t at the table's own sigmas, between them, and outside the range
        s = den.sigmas
        probe = torch.cat([s[::7], (s[:-1] * s[1:]).sqrt()[::5], torch.tensor([s[0].item() * 0.5, s[-1].item() * 2,
                           1.0, 0.5, 3.7, 80.0, 0.002])]).float()
        a[name + '_probe'] = probe
        a[name + '_probe_t'] = torch.stack([den.sigma_to_t(p.reshape(1))[0] for p in probe])
        tp = torch.tensor([0.0, 0.5, 1.25, 10.75, T / 2 + 0.3, T - 1.5, T - 1.0])
        a[name + '_tprobe'] = tp
        a[name + '_tprobe_sigma'] = torch.stack([den.t_to_sigma(x.reshape(1))[0] for x in tp])
    return a


SECTIONS = {'rng': make_rng, 'schedules': make_schedules}


def main():
    os.makedirs(OUT, exist_ok=True)
    names = sys.argv[1:] or list(SECTIONS)
    for name in names:
        arrays = SECTIONS[name]()
        path = os.path.join(OUT, name + '.bin')
        R.write_arrays(path, arrays)
        print('%s: %d arrays, %d bytes' % (path, len(arrays), os.path.getsize(path)))


if __name__ == '__main__':
    main()
