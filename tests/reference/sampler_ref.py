"""sampler_ref.py - the reference samplers, transcribed into PyTorch from their sources:
diffusers DDPMScheduler / DDIMScheduler (src/diffusers/schedulers/scheduling_ddpm.py,
scheduling_ddim.py) and k-diffusion (k_diffusion/sampling.py, k_diffusion/external.py).
Used by make_samplers.py (the sampler fixtures) and by the CLI golden test's fixture script.
Run with Debian's /usr/bin/python3 (torch 1.13); never at run time, never in CI.

Named-array fixture files (write_arrays / read_arrays): magic b'SFX1', u32 count, then per
array: u32 name length, name bytes (utf-8), u32 dtype (0 f32, 1 f64, 2 i64, 3 i32),
u32 ndim, u64 dims[ndim], raw little-endian data. tests/sampler/fixture.h reads them.
"""
import math
import struct

import numpy as np
import torch

# ---------------------------------------------------------------------------------------
# fixture files

_DT = {np.dtype('float32'): 0, np.dtype('float64'): 1, np.dtype('int64'): 2, np.dtype('int32'): 3}


def write_arrays(path, arrays):
    """arrays: dict name -> numpy array / torch tensor / list (float32 unless typed)."""
    out = [b'SFX1', struct.pack('<I', len(arrays))]
    for name, a in arrays.items():
        if isinstance(a, torch.Tensor):
            a = a.detach().cpu().numpy()
        a = np.asarray(a)
        if a.dtype not in _DT:
            a = a.astype(np.float32)
        a = np.ascontiguousarray(a)
        nb = name.encode()
        out.append(struct.pack('<I', len(nb)) + nb)
        out.append(struct.pack('<II', _DT[a.dtype], a.ndim))
        out.append(struct.pack('<%dQ' % a.ndim, *a.shape))
        out.append(a.astype(a.dtype.newbyteorder('<')).tobytes())
    with open(path, 'wb') as f:
        f.write(b''.join(out))


def read_arrays(path):
    inv = {v: k for k, v in _DT.items()}
    with open(path, 'rb') as f:
        b = f.read()
    assert b[:4] == b'SFX1'
    (count,) = struct.unpack_from('<I', b, 4)
    off, res = 8, {}
    for _ in range(count):
        (ln,) = struct.unpack_from('<I', b, off); off += 4
        name = b[off:off + ln].decode(); off += ln
        dt, nd = struct.unpack_from('<II', b, off); off += 8
        shape = struct.unpack_from('<%dQ' % nd, b, off); off += 8 * nd
        dtype = inv[dt]
        n = int(np.prod(shape)) if nd else 1
        res[name] = np.frombuffer(b, dtype=dtype, count=n, offset=off).reshape(shape)
        off += n * dtype.itemsize
    return res


# ---------------------------------------------------------------------------------------
# diffusers: betas, alphas_cumprod (schedulers/scheduling_ddpm.py __init__)

def betas_for_alpha_bar(num_diffusion_timesteps, max_beta=0.999):
    def alpha_bar(time_step):
        return math.cos((time_step + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = []
    for i in range(num_diffusion_timesteps):
        t1 = i / num_diffusion_timesteps
        t2 = (i + 1) / num_diffusion_timesteps
        betas.append(min(1 - alpha_bar(t2) / alpha_bar(t1), max_beta))
    return torch.tensor(betas, dtype=torch.float32)


def make_betas(beta_schedule, T, beta_start=0.0001, beta_end=0.02):
    if beta_schedule == 'linear':
        return torch.linspace(beta_start, beta_end, T, dtype=torch.float32)
    if beta_schedule == 'scaled_linear':
        return torch.linspace(beta_start ** 0.5, beta_end ** 0.5, T, dtype=torch.float32) ** 2
    if beta_schedule == 'squaredcos_cap_v2':
        return betas_for_alpha_bar(T)
    raise ValueError(beta_schedule)


def make_alphas_cumprod(betas):
    alphas = 1.0 - betas
    return torch.cumprod(alphas, dim=0)


# numbers shared with the C side (sculpt.h enums)
BETA_SCHEDULES = ['linear', 'scaled_linear', 'squaredcos_cap_v2']
SAMPLERS = ['ddpm', 'ddim', 'euler', 'heun', 'euler_a', 'dpmpp_2m']
SIGMA_SCHEDULES = ['discrete', 'karras', 'exponential']
SPACINGS = ['leading', 'trailing', 'linspace']
VARIANCE_TYPES = ['fixed_small', 'fixed_large', 'fixed_small_log', 'fixed_large_log']
PREDICTIONS = ['epsilon', 'v_prediction', 'sample']


def set_timesteps(T, num_inference_steps, timestep_spacing='leading', steps_offset=0):
    """DDPMScheduler.set_timesteps / DDIMScheduler.set_timesteps (identical rules)."""
    if num_inference_steps > T:
        raise ValueError('steps > T')
    if timestep_spacing == 'linspace':
        timesteps = np.linspace(0, T - 1, num_inference_steps).round()[::-1].copy().astype(np.int64)
    elif timestep_spacing == 'leading':
        step_ratio = T // num_inference_steps
        timesteps = (np.arange(0, num_inference_steps) * step_ratio).round()[::-1].copy().astype(np.int64)
        timesteps += steps_offset
    elif timestep_spacing == 'trailing':
        step_ratio = T / num_inference_steps
        timesteps = np.round(np.arange(T, 0, -step_ratio)).astype(np.int64)
        timesteps -= 1
    else:
        raise ValueError(timestep_spacing)
    return torch.from_numpy(timesteps)


class DDPMScheduler:
    """diffusers DDPMScheduler (set_timesteps, step, _get_variance, previous_timestep)."""

    def __init__(self, betas, variance_type='fixed_small', clip_sample=True, clip_sample_range=1.0,
                 prediction_type='epsilon', timestep_spacing='leading', steps_offset=0):
        self.betas = betas
        self.alphas = 1.0 - self.betas
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)
        self.one = torch.tensor(1.0)
        self.T = len(betas)
        self.variance_type = variance_type
        self.clip_sample = clip_sample
        self.clip_sample_range = clip_sample_range
        self.prediction_type = prediction_type
        self.timestep_spacing = timestep_spacing
        self.steps_offset = steps_offset
        self.num_inference_steps = None

    def set_timesteps(self, num_inference_steps):
        self.num_inference_steps = num_inference_steps
        self.timesteps = set_timesteps(self.T, num_inference_steps, self.timestep_spacing, self.steps_offset)

    def previous_timestep(self, timestep):
        n = self.num_inference_steps if self.num_inference_steps else self.T
        return timestep - self.T // n

    def _get_variance(self, t):
        prev_t = self.previous_timestep(t)
        alpha_prod_t = self.alphas_cumprod[t]
        alpha_prod_t_prev = self.alphas_cumprod[prev_t] if prev_t >= 0 else self.one
        current_beta_t = 1 - alpha_prod_t / alpha_prod_t_prev
        variance = (1 - alpha_prod_t_prev) / (1 - alpha_prod_t) * current_beta_t
        variance = torch.clamp(variance, min=1e-20)
        if self.variance_type == 'fixed_small':
            variance = variance
        elif self.variance_type == 'fixed_small_log':
            variance = torch.log(variance)
            variance = torch.exp(0.5 * variance)
        elif self.variance_type == 'fixed_large':
            variance = current_beta_t
        elif self.variance_type == 'fixed_large_log':
            variance = torch.log(current_beta_t)
        return variance

    def step(self, model_output, timestep, sample, noise_fn):
        t = timestep
        prev_t = self.previous_timestep(t)
        alpha_prod_t = self.alphas_cumprod[t]
        alpha_prod_t_prev = self.alphas_cumprod[prev_t] if prev_t >= 0 else self.one
        beta_prod_t = 1 - alpha_prod_t
        beta_prod_t_prev = 1 - alpha_prod_t_prev
        current_alpha_t = alpha_prod_t / alpha_prod_t_prev
        current_beta_t = 1 - current_alpha_t
        if self.prediction_type == 'epsilon':
            pred_original_sample = (sample - beta_prod_t ** (0.5) * model_output) / alpha_prod_t ** (0.5)
        elif self.prediction_type == 'sample':
            pred_original_sample = model_output
        elif self.prediction_type == 'v_prediction':
            pred_original_sample = (alpha_prod_t ** 0.5) * sample - (beta_prod_t ** 0.5) * model_output
        if self.clip_sample:
            pred_original_sample = pred_original_sample.clamp(-self.clip_sample_range, self.clip_sample_range)
        pred_original_sample_coeff = (alpha_prod_t_prev ** (0.5) * current_beta_t) / beta_prod_t
        current_sample_coeff = current_alpha_t ** (0.5) * beta_prod_t_prev / beta_prod_t
        pred_prev_sample = pred_original_sample_coeff * pred_original_sample + current_sample_coeff * sample
        variance = 0
        if t > 0:
            variance_noise = noise_fn(model_output.shape)
            if self.variance_type == 'fixed_small_log':
                variance = self._get_variance(t) * variance_noise
            else:
                variance = (self._get_variance(t) ** 0.5) * variance_noise
        pred_prev_sample = pred_prev_sample + variance
        return pred_prev_sample


class DDIMScheduler:
    """diffusers DDIMScheduler (set_timesteps, step with eta, _get_variance)."""

    def __init__(self, betas, clip_sample=True, clip_sample_range=1.0, set_alpha_to_one=True,
                 steps_offset=0, prediction_type='epsilon', timestep_spacing='leading'):
        self.betas = betas
        self.alphas = 1.0 - self.betas
        self.alphas_cumprod = torch.cumprod(self.alphas, dim=0)
        self.final_alpha_cumprod = torch.tensor(1.0) if set_alpha_to_one else self.alphas_cumprod[0]
        self.T = len(betas)
        self.clip_sample = clip_sample
        self.clip_sample_range = clip_sample_range
        self.steps_offset = steps_offset
        self.prediction_type = prediction_type
        self.timestep_spacing = timestep_spacing

    def set_timesteps(self, num_inference_steps):
        self.num_inference_steps = num_inference_steps
        self.timesteps = set_timesteps(self.T, num_inference_steps, self.timestep_spacing, self.steps_offset)

    def _get_variance(self, timestep, prev_timestep):
        alpha_prod_t = self.alphas_cumprod[timestep]
        alpha_prod_t_prev = self.alphas_cumprod[prev_timestep] if prev_timestep >= 0 else self.final_alpha_cumprod
        beta_prod_t = 1 - alpha_prod_t
        beta_prod_t_prev = 1 - alpha_prod_t_prev
        variance = (beta_prod_t_prev / beta_prod_t) * (1 - alpha_prod_t / alpha_prod_t_prev)
        return variance

    def step(self, model_output, timestep, sample, eta, noise_fn, use_clipped_model_output=False):
        prev_timestep = timestep - self.T // self.num_inference_steps
        alpha_prod_t = self.alphas_cumprod[timestep]
        alpha_prod_t_prev = self.alphas_cumprod[prev_timestep] if prev_timestep >= 0 else self.final_alpha_cumprod
        beta_prod_t = 1 - alpha_prod_t
        if self.prediction_type == 'epsilon':
            pred_original_sample = (sample - beta_prod_t ** (0.5) * model_output) / alpha_prod_t ** (0.5)
            pred_epsilon = model_output
        elif self.prediction_type == 'sample':
            pred_original_sample = model_output
            pred_epsilon = (sample - alpha_prod_t ** (0.5) * pred_original_sample) / beta_prod_t ** (0.5)
        elif self.prediction_type == 'v_prediction':
            pred_original_sample = (alpha_prod_t ** 0.5) * sample - (beta_prod_t ** 0.5) * model_output
            pred_epsilon = (alpha_prod_t ** 0.5) * model_output + (beta_prod_t ** 0.5) * sample
        if self.clip_sample:
            pred_original_sample = pred_original_sample.clamp(-self.clip_sample_range, self.clip_sample_range)
        variance = self._get_variance(timestep, prev_timestep)
        std_dev_t = eta * variance ** (0.5)
        if use_clipped_model_output:
            pred_epsilon = (sample - alpha_prod_t ** (0.5) * pred_original_sample) / beta_prod_t ** (0.5)
        pred_sample_direction = (1 - alpha_prod_t_prev - std_dev_t ** 2) ** (0.5) * pred_epsilon
        prev_sample = alpha_prod_t_prev ** (0.5) * pred_original_sample + pred_sample_direction
        if eta > 0:
            variance_noise = noise_fn(model_output.shape)
            variance = std_dev_t * variance_noise
            prev_sample = prev_sample + variance
        return prev_sample


# ---------------------------------------------------------------------------------------
# k-diffusion: k_diffusion/sampling.py and k_diffusion/external.py

def append_zero(x):
    return torch.cat([x, x.new_zeros([1])])


def get_sigmas_karras(n, sigma_min, sigma_max, rho=7.):
    ramp = torch.linspace(0, 1, n)
    min_inv_rho = sigma_min ** (1 / rho)
    max_inv_rho = sigma_max ** (1 / rho)
    sigmas = (max_inv_rho + ramp * (min_inv_rho - max_inv_rho)) ** rho
    return append_zero(sigmas)


def get_sigmas_exponential(n, sigma_min, sigma_max):
    sigmas = torch.linspace(math.log(sigma_max), math.log(sigma_min), n).exp()
    return append_zero(sigmas)


def append_dims(x, target_dims):
    dims_to_append = target_dims - x.ndim
    return x[(...,) + (None,) * dims_to_append]


class DiscreteSchedule:
    def __init__(self, sigmas, quantize=False):
        self.sigmas = sigmas
        self.log_sigmas = sigmas.log()
        self.quantize = quantize

    @property
    def sigma_min(self):
        return self.sigmas[0]

    @property
    def sigma_max(self):
        return self.sigmas[-1]

    def get_sigmas(self, n=None):
        if n is None:
            return append_zero(self.sigmas.flip(0))
        t_max = len(self.sigmas) - 1
        t = torch.linspace(t_max, 0, n)
        return append_zero(self.t_to_sigma(t))

    def sigma_to_t(self, sigma, quantize=None):
        quantize = self.quantize if quantize is None else quantize
        log_sigma = sigma.log()
        dists = log_sigma - self.log_sigmas[:, None]
        if quantize:
            return dists.abs().argmin(dim=0).view(sigma.shape)
        low_idx = dists.ge(0).cumsum(dim=0).argmax(dim=0).clamp(max=self.log_sigmas.shape[0] - 2)
        high_idx = low_idx + 1
        low, high = self.log_sigmas[low_idx], self.log_sigmas[high_idx]
        w = (low - log_sigma) / (low - high)
        w = w.clamp(0, 1)
        t = (1 - w) * low_idx + w * high_idx
        return t.view(sigma.shape)

    def t_to_sigma(self, t):
        t = t.float()
        low_idx, high_idx, w = t.floor().long(), t.ceil().long(), t.frac()
        log_sigma = (1 - w) * self.log_sigmas[low_idx] + w * self.log_sigmas[high_idx]
        return log_sigma.exp()


class DiscreteEpsDDPMDenoiser(DiscreteSchedule):
    def __init__(self, model, alphas_cumprod, quantize=False):
        super().__init__(((1 - alphas_cumprod) / alphas_cumprod) ** 0.5, quantize)
        self.inner_model = model
        self.sigma_data = 1.

    def get_scalings(self, sigma):
        c_out = -sigma
        c_in = 1 / (sigma ** 2 + self.sigma_data ** 2) ** 0.5
        return c_out, c_in

    def __call__(self, input, sigma):
        c_out, c_in = (append_dims(x, input.ndim) for x in self.get_scalings(sigma))
        eps = self.inner_model(input * c_in, self.sigma_to_t(sigma))
        return input + eps * c_out


class DiscreteVDDPMDenoiser(DiscreteSchedule):
    def __init__(self, model, alphas_cumprod, quantize=False):
        super().__init__(((1 - alphas_cumprod) / alphas_cumprod) ** 0.5, quantize)
        self.inner_model = model
        self.sigma_data = 1.

    def get_scalings(self, sigma):
        c_skip = self.sigma_data ** 2 / (sigma ** 2 + self.sigma_data ** 2)
        c_out = -sigma * self.sigma_data / (sigma ** 2 + self.sigma_data ** 2) ** 0.5
        c_in = 1 / (sigma ** 2 + self.sigma_data ** 2) ** 0.5
        return c_skip, c_out, c_in

    def __call__(self, input, sigma):
        c_skip, c_out, c_in = (append_dims(x, input.ndim) for x in self.get_scalings(sigma))
        return self.inner_model(input * c_in, self.sigma_to_t(sigma)) * c_out + input * c_skip


def to_d(x, sigma, denoised):
    return (x - denoised) / append_dims(sigma, x.ndim)


def get_ancestral_step(sigma_from, sigma_to, eta=1.):
    if not eta:
        return sigma_to, 0.
    sigma_up = min(sigma_to, eta * (sigma_to ** 2 * (sigma_from ** 2 - sigma_to ** 2) / sigma_from ** 2) ** 0.5)
    sigma_down = (sigma_to ** 2 - sigma_up ** 2) ** 0.5
    return sigma_down, sigma_up


def sample_euler(model, x, sigmas, randn_like, s_churn=0., s_tmin=0., s_tmax=float('inf'), s_noise=1.):
    s_in = x.new_ones([x.shape[0]])
    for i in range(len(sigmas) - 1):
        gamma = min(s_churn / (len(sigmas) - 1), 2 ** 0.5 - 1) if s_tmin <= sigmas[i] <= s_tmax else 0.
        eps = randn_like(x) * s_noise
        sigma_hat = sigmas[i] * (gamma + 1)
        if gamma > 0:
            x = x + eps * (sigma_hat ** 2 - sigmas[i] ** 2) ** 0.5
        denoised = model(x, sigma_hat * s_in)
        d = to_d(x, sigma_hat, denoised)
        dt = sigmas[i + 1] - sigma_hat
        x = x + d * dt
        yield x
    return x


def sample_heun(model, x, sigmas, randn_like, s_churn=0., s_tmin=0., s_tmax=float('inf'), s_noise=1.):
    s_in = x.new_ones([x.shape[0]])
    for i in range(len(sigmas) - 1):
        gamma = min(s_churn / (len(sigmas) - 1), 2 ** 0.5 - 1) if s_tmin <= sigmas[i] <= s_tmax else 0.
        eps = randn_like(x) * s_noise
        sigma_hat = sigmas[i] * (gamma + 1)
        if gamma > 0:
            x = x + eps * (sigma_hat ** 2 - sigmas[i] ** 2) ** 0.5
        denoised = model(x, sigma_hat * s_in)
        d = to_d(x, sigma_hat, denoised)
        dt = sigmas[i + 1] - sigma_hat
        if sigmas[i + 1] == 0:
            x = x + d * dt
        else:
            x_2 = x + d * dt
            denoised_2 = model(x_2, sigmas[i + 1] * s_in)
            d_2 = to_d(x_2, sigmas[i + 1], denoised_2)
            d_prime = (d + d_2) / 2
            x = x + d_prime * dt
        yield x


def sample_euler_ancestral(model, x, sigmas, randn_like, eta=1., s_noise=1.):
    s_in = x.new_ones([x.shape[0]])
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        sigma_down, sigma_up = get_ancestral_step(sigmas[i], sigmas[i + 1], eta=eta)
        d = to_d(x, sigmas[i], denoised)
        dt = sigma_down - sigmas[i]
        x = x + d * dt
        if sigmas[i + 1] > 0:
            x = x + randn_like(x) * s_noise * sigma_up
        yield x


def sample_dpmpp_2m(model, x, sigmas, randn_like=None):
    s_in = x.new_ones([x.shape[0]])
    sigma_fn = lambda t: t.neg().exp()  # noqa: E731
    t_fn = lambda sigma: sigma.log().neg()  # noqa: E731
    old_denoised = None
    for i in range(len(sigmas) - 1):
        denoised = model(x, sigmas[i] * s_in)
        t, t_next = t_fn(sigmas[i]), t_fn(sigmas[i + 1])
        h = t_next - t
        if old_denoised is None or sigmas[i + 1] == 0:
            x = (sigma_fn(t_next) / sigma_fn(t)) * x - (-h).expm1() * denoised
        else:
            h_last = t - t_fn(sigmas[i - 1])
            r = h_last / h
            denoised_d = (1 + 1 / (2 * r)) * denoised - (1 / (2 * r)) * old_denoised
            x = (sigma_fn(t_next) / sigma_fn(t)) * x - (-h).expm1() * denoised_d
        old_denoised = denoised
        yield x


K_SAMPLERS = {'euler': sample_euler, 'heun': sample_heun, 'euler_a': sample_euler_ancestral,
              'dpmpp_2m': sample_dpmpp_2m}


# ---------------------------------------------------------------------------------------
# whole runs, as sculpt_sampler_run does them for one image

DEFAULTS = dict(steps=10, sigma_schedule='karras', spacing='leading', steps_offset=0, eta=0.0,
                churn=0.0, tmin=0.0, tmax=float('inf'), snoise=1.0, sigma_min=0.0, sigma_max=0.0,
                rho=7.0, set_alpha_to_one=True, clip_sample=None)


def k_sigmas(denoiser, opts):
    n = opts['steps']
    smin = opts['sigma_min'] or denoiser.sigmas[0].item()
    smax = opts['sigma_max'] or denoiser.sigmas[-1].item()
    if opts['sigma_schedule'] == 'karras':
        return get_sigmas_karras(n, smin, smax, rho=opts['rho'])
    if opts['sigma_schedule'] == 'exponential':
        return get_sigmas_exponential(n, smin, smax)
    return denoiser.get_sigmas(n)


def run(sampler, net, x, sched, opts, generator, record=None):
    """One reference run. x: [1, c, h, w] unit-variance start noise drawn from `generator`
    (a torch.Generator, which then supplies the sampler's noise, as diffusers' generator=
    and k-diffusion's global generator after torch.manual_seed do). sched: dict with betas,
    variance_type, clip_sample, clip_sample_range, prediction_type. net(x, t) -> output.
    record: optional list that receives (x_before_step, [(net_x, net_t, net_out), ...])
    per step and finally the output. Returns the final x."""
    o = dict(DEFAULTS)
    o.update(opts)
    calls = []

    def rec_net(xx, tt):
        out = net(xx, tt)
        calls.append((xx.clone(), tt.clone(), out.clone()))
        return out

    def noise_fn(shape):
        return torch.randn(shape, generator=generator)

    clip = sched['clip_sample'] if o['clip_sample'] is None else bool(o['clip_sample'])
    steps_log = []
    if sampler in ('ddpm', 'ddim'):
        if sampler == 'ddpm':
            s = DDPMScheduler(sched['betas'], variance_type=sched['variance_type'], clip_sample=clip,
                              clip_sample_range=sched['clip_sample_range'],
                              prediction_type=sched['prediction_type'], timestep_spacing=o['spacing'],
                              steps_offset=o['steps_offset'])
        else:
            s = DDIMScheduler(sched['betas'], clip_sample=clip, clip_sample_range=sched['clip_sample_range'],
                              set_alpha_to_one=o['set_alpha_to_one'], steps_offset=o['steps_offset'],
                              prediction_type=sched['prediction_type'], timestep_spacing=o['spacing'])
        s.set_timesteps(o['steps'])
        for t in s.timesteps:
            calls = []
            x_before = x
            model_output = rec_net(x, t.reshape(1).float().expand(x.shape[0]))
            if sampler == 'ddpm':
                x = s.step(model_output, t, x, noise_fn)
            else:
                x = s.step(model_output, t, x, o['eta'], noise_fn)
            steps_log.append((x_before, calls))
    else:
        ac = make_alphas_cumprod(sched['betas'])
        if sched['prediction_type'] == 'epsilon':
            den = DiscreteEpsDDPMDenoiser(rec_net, ac)
        elif sched['prediction_type'] == 'v_prediction':
            den = DiscreteVDDPMDenoiser(rec_net, ac)
        else:
            raise ValueError('k-diffusion samplers take epsilon or v models')
        sigmas = k_sigmas(den, o)
        x = x * sigmas[0]

        def randn_like(xx):
            return torch.randn(xx.shape, generator=generator)

        if sampler in ('euler', 'heun'):
            gen = K_SAMPLERS[sampler](den, x, sigmas, randn_like, s_churn=o['churn'], s_tmin=o['tmin'],
                                      s_tmax=o['tmax'], s_noise=o['snoise'])
        elif sampler == 'euler_a':
            gen = sample_euler_ancestral(den, x, sigmas, randn_like, eta=o['eta'], s_noise=o['snoise'])
        else:
            gen = sample_dpmpp_2m(den, x, sigmas)
        x_before = x
        calls = []
        while True:
            try:
                x_new = next(gen)
            except StopIteration:
                break
            steps_log.append((x_before, calls))
            calls = []
            x_before = x_new
            x = x_new
    if record is not None:
        record.extend(steps_log)
        record.append(x)
    return x


# ---------------------------------------------------------------------------------------
# the analytic test network (tests/sampler/analytic.h computes the same in C)

def analytic_net(x, t):
    """eps = tanh(0.6 * (M x)_i + 0.0013 t - 0.05 i) per pixel, in float64, rounded to float32;
    M[i][j] = 0.9 if i == j else 0.1 * ((i + 2j) % 3 - 1); sums in ascending j."""
    xd = x.double()
    td = t.double().reshape(-1, 1, 1)
    c = x.shape[1]
    outs = []
    for i in range(c):
        y = None
        for j in range(c):
            m = 0.9 if i == j else 0.1 * ((i + 2 * j) % 3 - 1)
            term = m * xd[:, j]
            y = term if y is None else y + term
        outs.append(torch.tanh(0.6 * y + 0.0013 * td - 0.05 * i))
    return torch.stack(outs, dim=1).float()


def sched_dict(betas, variance_type='fixed_large', clip_sample=True, clip_sample_range=1.0,
               prediction_type='epsilon'):
    return dict(betas=betas, variance_type=variance_type, clip_sample=clip_sample,
                clip_sample_range=clip_sample_range, prediction_type=prediction_type)


OPT_FIELDS = ['sampler', 'steps', 'sigma_schedule', 'spacing', 'steps_offset', 'eta', 'churn', 'tmin',
              'tmax', 'snoise', 'sigma_min', 'sigma_max', 'rho', 'set_alpha_to_one', 'clip_sample',
              'variance_type', 'model_clip', 'clip_range', 'prediction_type', 'c', 's', 'seed', 'n']


def encode_config(sampler, opts, sched, c, s, seed, n=1):
    """The float64 vector tests/sampler reads (OPT_FIELDS order; enums as sculpt.h numbers)."""
    o = dict(DEFAULTS)
    o.update(opts)
    f32 = lambda v: float(np.float32(v))  # noqa: E731
    cs = o['clip_sample']
    return np.array([SAMPLERS.index(sampler), o['steps'], SIGMA_SCHEDULES.index(o['sigma_schedule']),
                     SPACINGS.index(o['spacing']), o['steps_offset'], f32(o['eta']), f32(o['churn']),
                     f32(o['tmin']), f32(o['tmax']), f32(o['snoise']), f32(o['sigma_min']), f32(o['sigma_max']),
                     f32(o['rho']), 1 if o['set_alpha_to_one'] else 0, -1 if cs is None else int(bool(cs)),
                     VARIANCE_TYPES.index(sched['variance_type']), int(bool(sched['clip_sample'])),
                     f32(sched['clip_sample_range']), PREDICTIONS.index(sched['prediction_type']), c, s, seed, n],
                    dtype=np.float64)
