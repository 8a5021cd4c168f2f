// ort_bench.js — ONNX Runtime's side of bench/run.sh: times one evaluation of the exported
// UNet (bench/out/unet.onnx, from torch_bench.py --export-onnx) with npm onnxruntime-node,
// graph optimisation 'all', intra-op threads set, on bench_input.py's input batch.
// usage: node bench/ort_bench.js --model M --batch N --threads T [--warmup W] [--iters K] [--ref F]
'use strict';
const fs = require('fs');
const path = require('path');

// Returns { ort, version }: ORT_NODE_DIR, then bench/out/ort (where bench/run.sh installs
// it), then the normal module search path.
function loadOrt() {
  const tried = [];
  const candidates = [process.env.ORT_NODE_DIR, path.join(__dirname, 'out', 'ort', 'node_modules', 'onnxruntime-node'),
                      'onnxruntime-node'].filter(Boolean);
  for (const c of candidates) {
    try {
      const ort = require(c);
      const pkg = path.join(path.dirname(require.resolve(c)), '..', 'package.json');
      return { ort, version: fs.existsSync(pkg) ? JSON.parse(fs.readFileSync(pkg)).version : '?' };
    } catch (e) { tried.push(c + ': ' + e.message.split('\n')[0]); }
  }
  console.error('ort_bench: onnxruntime-node not found (npm install --ignore-scripts --prefix bench/out/ort ' +
                'onnxruntime-node, or set ORT_NODE_DIR):\n  ' + tried.join('\n  '));
  process.exit(3);
}

// bench_input.py, bit for bit: x = (hash32(i) >> 8) / 2^23 - 1, t[j] = (999 - 137 j) mod 1000.
function hash32(i) {
  let u = (Math.imul(i, 0x9E3779B1) + 0x7F4A7C15) >>> 0;
  u = (u ^ (u >>> 15)) >>> 0;
  u = Math.imul(u, 0x2C1B3C6D) >>> 0;
  u = (u ^ (u >>> 12)) >>> 0;
  u = Math.imul(u, 0x297A2D39) >>> 0;
  return (u ^ (u >>> 15)) >>> 0;
}

function median(a) {
  const s = [...a].sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main() {
  const args = { warmup: 1, iters: 3, batch: 1, threads: 1, size: 32, channels: 3 };
  const av = process.argv.slice(2);
  for (let i = 0; i < av.length; i += 2) {
    const k = av[i].replace(/^--/, '');
    if (!(k in args) && !['model', 'ref'].includes(k) || i + 1 >= av.length) {
      console.error('usage: node ort_bench.js --model M --batch N --threads T [--warmup W] [--iters K] [--ref F]');
      process.exit(2);
    }
    args[k] = ['model', 'ref'].includes(k) ? av[i + 1] : parseInt(av[i + 1], 10);
  }
  if (!args.model) { console.error('ort_bench: --model is required'); process.exit(2); }
  const baseRss = process.memoryUsage().rss / 1024;
  const { ort, version } = loadOrt();
  const session = await ort.InferenceSession.create(args.model, {
    graphOptimizationLevel: 'all', intraOpNumThreads: args.threads, interOpNumThreads: 1,
    executionMode: 'sequential', executionProviders: ['cpu'] });
  const n = args.batch, per = args.channels * args.size * args.size;
  const x = new Float32Array(n * per);
  for (let i = 0; i < x.length; i++) x[i] = ((hash32(i) >>> 8) - 8388608) / 8388608;
  const t = new Float32Array(n);
  for (let j = 0; j < n; j++) t[j] = (((999 - 137 * j) % 1000) + 1000) % 1000;
  const feeds = { x: new ort.Tensor('float32', x, [n, args.channels, args.size, args.size]),
                  t: new ort.Tensor('float32', t, [n]) };
  const times = [];
  let out;
  for (let i = 0; i < args.warmup + args.iters; i++) {
    const t0 = process.hrtime.bigint();
    out = (await session.run(feeds)).eps.data;
    const dt = Number(process.hrtime.bigint() - t0) / 1e6;
    if (i >= args.warmup) times.push(dt);
  }
  let rel = '';
  if (args.ref && fs.existsSync(args.ref)) {
    const b = fs.readFileSync(args.ref);
    const r = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
    if (r.length === out.length) {
      let num = 0, den = 0;
      for (let i = 0; i < r.length; i++) { num += (out[i] - r[i]) ** 2; den += r[i] ** 2; }
      rel = ' rel_l2_vs_torch=' + Math.sqrt(num / den).toExponential(2);
    }
  }
  console.log(`RESULT runtime=ort batch=${n} threads=${args.threads} ms_med=${median(times).toFixed(2)} ` +
              `ms_min=${Math.min(...times).toFixed(2)} iters=${times.length} ` +
              `maxrss_kb=${process.resourceUsage().maxRSS} base_rss_kb=${Math.round(baseRss)} ` +
              `ort=${version}${rel}`);
}

main().catch((e) => { console.error('ort_bench: ' + e.message); process.exit(1); });
