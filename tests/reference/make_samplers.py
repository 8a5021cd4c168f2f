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


def f32opts(opts):
    return {k: (float(np.float32(v)) if isinstance(v, float) else v) for k, v in opts.items()}


def schedule_arrays(a, name):
    for sname, bs, T, b0, b1 in SCHEDULES:
        if sname == name:
            betas = R.make_betas(bs, T, b0, b1)
            a['sched_%s_betas' % name] = betas
            a['sched_%s_ac' % name] = R.make_alphas_cumprod(betas)
            return betas
    raise KeyError(name)


# step configs: (sampler, opts, schedule name, sched overrides, c, s, seed)
STEP_CONFIGS = [
    ('ddpm', dict(steps=10), 'lin', {}, 3, 4, 11),
    ('ddpm', dict(steps=12, spacing='trailing'), 'lin', dict(variance_type='fixed_small', clip_sample_range=0.8), 3, 4, 12),
    ('ddpm', dict(steps=9, spacing='linspace'), 'cos', dict(prediction_type='v_prediction'), 3, 4, 13),
    ('ddpm', dict(steps=10, steps_offset=1), 'lin', dict(variance_type='fixed_small_log', clip_sample=False), 3, 4, 14),
    ('ddpm', dict(steps=8), 'scl', dict(prediction_type='sample', clip_sample=False), 1, 3, 15),
    ('ddpm', dict(steps=50), 'lin50', dict(variance_type='fixed_small'), 1, 3, 16),
    ('ddim', dict(steps=10), 'lin', {}, 3, 4, 21),
    ('ddim', dict(steps=12, spacing='trailing', eta=0.5), 'lin', {}, 3, 4, 22),
    ('ddim', dict(steps=9, spacing='linspace', eta=1.0, set_alpha_to_one=False), 'cos', {}, 3, 4, 23),
    ('ddim', dict(steps=10, steps_offset=1, clip_sample=0), 'lin', {}, 3, 4, 24),
    ('ddim', dict(steps=7, eta=0.3), 'scl', dict(prediction_type='v_prediction', clip_sample=False), 1, 3, 25),
    ('ddim', dict(steps=6, eta=0.7), 'lin', dict(prediction_type='sample', clip_sample_range=2.0), 3, 4, 26),
    ('euler', dict(steps=10, sigma_schedule='karras'), 'lin', {}, 3, 4, 31),
    ('euler', dict(steps=10, sigma_schedule='discrete'), 'lin', {}, 3, 4, 32),
    ('euler', dict(steps=8, sigma_schedule='exponential'), 'scl', {}, 3, 4, 33),
    ('euler', dict(steps=10, sigma_schedule='karras', churn=2.0, tmin=0.05, tmax=10.0, snoise=1.003), 'lin', {}, 3, 4, 34),
    ('euler', dict(steps=9, sigma_schedule='karras', sigma_min=0.03, sigma_max=40.0, rho=5.0), 'lin',
     dict(prediction_type='v_prediction'), 1, 3, 35),
    ('heun', dict(steps=10, sigma_schedule='karras'), 'lin', {}, 3, 4, 41),
    ('heun', dict(steps=10, sigma_schedule='discrete'), 'cos', {}, 3, 4, 42),
    ('heun', dict(steps=8, sigma_schedule='exponential', churn=40.0, snoise=0.997), 'lin', {}, 1, 3, 43),
    ('heun', dict(steps=7, sigma_schedule='karras', churn=1.0, tmin=0.5), 'lin', {}, 3, 4, 44),
    ('euler_a', dict(steps=10, sigma_schedule='karras', eta=1.0), 'lin', {}, 3, 4, 51),
    ('euler_a', dict(steps=10, sigma_schedule='discrete', eta=0.5), 'lin', {}, 1, 3, 52),
    ('euler_a', dict(steps=8, sigma_schedule='exponential', eta=0.0), 'scl', {}, 3, 4, 53),
    ('euler_a', dict(steps=9, sigma_schedule='karras', eta=1.0, snoise=1.01), 'lin',
     dict(prediction_type='v_prediction'), 3, 4, 54),
    ('dpmpp_2m', dict(steps=10, sigma_schedule='karras'), 'lin', {}, 3, 4, 61),
    ('dpmpp_2m', dict(steps=10, sigma_schedule='discrete'), 'cos', {}, 3, 4, 62),
    ('dpmpp_2m', dict(steps=8, sigma_schedule='exponential'), 'lin', {}, 1, 3, 63),
    ('euler_a', dict(steps=8, sigma_schedule='karras', eta=1.5), 'lin', {}, 3, 4, 55),
]


def make_steps():
    a = {}
    done = set()
    for k, (sampler, opts, sname, over, c, s, seed) in enumerate(STEP_CONFIGS):
        opts = f32opts(opts)
        if sname not in done:
            schedule_arrays(a, sname)
            done.add(sname)
        betas = a['sched_%s_betas' % sname]
        sched = R.sched_dict(betas, **over)
        g = torch.Generator().manual_seed(seed)
        x = torch.randn((1, c, s, s), generator=g)
        rec = []
        R.run(sampler, R.analytic_net, x, sched, opts, g, record=rec)
        steps = rec[:-1]
        a['c%d_cfg' % k] = R.encode_config(sampler, opts, sched, c, s, seed)
        a['c%d_sched' % k] = np.array([ord(ch) for ch in sname], dtype=np.int32)
        a['c%d_noise0' % k] = x.reshape(-1)
        a['c%d_xs' % k] = torch.stack([st[0].reshape(-1) for st in steps] + [rec[-1].reshape(-1)])
        calls = [cl for st in steps for cl in st[1]]
        a['c%d_ncalls' % k] = np.array([len(st[1]) for st in steps], dtype=np.int32)
        a['c%d_calls_x' % k] = torch.stack([cl[0].reshape(-1) for cl in calls])
        a['c%d_calls_t' % k] = torch.stack([cl[1].reshape(-1)[0] for cl in calls])
        a['c%d_calls_out' % k] = torch.stack([cl[2].reshape(-1) for cl in calls])
    a['nconfigs'] = np.array([len(STEP_CONFIGS)], dtype=np.int32)
    return a


# whole runs: (sampler, opts, schedule, sched overrides, c, s, first seed); two images each
RUN_CONFIGS = [
    ('ddpm', dict(steps=1000), 'lin', {}, 3, 4, 100),
    ('ddpm', dict(steps=25), 'lin', {}, 3, 4, 102),
    ('ddpm', dict(steps=20, spacing='trailing'), 'lin', dict(variance_type='fixed_small'), 3, 4, 104),
    ('ddpm', dict(steps=10), 'cos', {}, 1, 3, 106),
    ('ddim', dict(steps=10), 'lin', {}, 3, 4, 110),
    ('ddim', dict(steps=50), 'lin', {}, 3, 4, 112),
    ('ddim', dict(steps=20, spacing='trailing', eta=1.0), 'lin', {}, 3, 4, 114),
    ('ddim', dict(steps=15, spacing='linspace', set_alpha_to_one=False), 'cos', {}, 3, 4, 116),
    ('euler', dict(steps=10), 'lin', {}, 3, 4, 120),
    ('euler', dict(steps=30), 'lin', {}, 3, 4, 122),
    ('euler', dict(steps=20, sigma_schedule='discrete'), 'lin', {}, 3, 4, 124),
    ('euler', dict(steps=25, churn=5.0, tmin=0.05, tmax=50.0), 'lin', {}, 3, 4, 126),
    ('heun', dict(steps=10), 'lin', {}, 3, 4, 130),
    ('heun', dict(steps=25), 'lin', {}, 3, 4, 132),
    ('heun', dict(steps=18, sigma_schedule='discrete', churn=2.0), 'cos', {}, 3, 4, 134),
    ('euler_a', dict(steps=20, eta=1.0), 'lin', {}, 3, 4, 140),
    ('euler_a', dict(steps=15, sigma_schedule='exponential', eta=0.6), 'lin', {}, 1, 3, 142),
    ('dpmpp_2m', dict(steps=10), 'lin', {}, 3, 4, 150),
    ('dpmpp_2m', dict(steps=25), 'lin', {}, 3, 4, 152),
    ('dpmpp_2m', dict(steps=20, sigma_schedule='discrete'), 'cos', {}, 3, 4, 154),
    ('dpmpp_2m', dict(steps=12, sigma_schedule='exponential'), 'scl', {}, 3, 4, 156),
]
RUN_IMAGES = 2
SENSITIVITY_FACTOR = 10.0  # tolerance = this x the reference's own one-ulp sensitivity


def one_ulp_moved(x, seed):
    g = np.random.RandomState(seed)
    xn = x.numpy().copy()
    up = g.rand(*xn.shape) < 0.5
    moved = np.where(up, np.nextafter(xn, np.float32(np.inf)), np.nextafter(xn, np.float32(-np.inf)))
    return torch.from_numpy(moved.astype(np.float32))


def make_runs():
    a = {}
    done = set()
    for k, (sampler, opts, sname, over, c, s, seed) in enumerate(RUN_CONFIGS):
        opts = f32opts(opts)
        if sname not in done:
            schedule_arrays(a, sname)
            done.add(sname)
        sched = R.sched_dict(a['sched_%s_betas' % sname], **over)
        finals, sens = [], []
        for j in range(RUN_IMAGES):
            g = torch.Generator().manual_seed(seed + j)
            x = torch.randn((1, c, s, s), generator=g)
            out = R.run(sampler, R.analytic_net, x, sched, opts, g)
            g2 = torch.Generator().manual_seed(seed + j)
            torch.randn((1, c, s, s), generator=g2)
            out2 = R.run(sampler, R.analytic_net, one_ulp_moved(x, seed + j), sched, opts, g2)
            finals.append(out.reshape(-1))
            sens.append(((out2 - out).norm() / out.norm()).item())
        a['r%d_cfg' % k] = R.encode_config(sampler, opts, sched, c, s, seed, RUN_IMAGES)
        a['r%d_sched' % k] = np.array([ord(ch) for ch in sname], dtype=np.int32)
        a['r%d_final' % k] = torch.cat(finals)
        a['r%d_sensitivity' % k] = np.array(sens, dtype=np.float64)
        a['r%d_tol' % k] = np.array([max(SENSITIVITY_FACTOR * max(sens), 1e-6)], dtype=np.float64)
        print('run %d %s %s: one-ulp sensitivity %s' % (k, sampler, opts, ' '.join('%.2e' % v for v in sens)))
    a['nruns'] = np.array([len(RUN_CONFIGS)], dtype=np.int32)
    return a


SECTIONS = {'rng': make_rng, 'schedules': make_schedules, 'steps': make_steps, 'runs': make_runs}


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
