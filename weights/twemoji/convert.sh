#!/bin/sh
# convert.sh — turns train.py's final checkpoint into the shipped weight file, with the
# data credit and the training-set statistics (stats.json) in its metadata.
# usage: weights/twemoji/convert.sh BUILD_DIR [CHECKPOINT [OUT]]
#   BUILD_DIR holds converters/convert-weights; CHECKPOINT defaults to runs/final.pt and OUT
#   to twemoji-f16.bin (both relative to weights/twemoji).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cw="${1:?usage: convert.sh BUILD_DIR}/converters/convert-weights"
ck="${2:-runs/final.pt}"
out="${3:-twemoji-f16.bin}"
cd "$here"
stat() { /usr/bin/python3 -c "import json; v = json.load(open('stats.json'))['$1']; \
print(' '.join('%.6f' % x for x in v) if isinstance(v, list) else '%.6f' % v)"; }
# "N steps"; with train.py's history (checkpoints since the GPU run) the steps per device, e.g.
# "6671 steps (3090 on CPU + 3581 on an NVIDIA H100 80GB HBM3 GPU, float32, TF32 off)".
steps=$(/usr/bin/python3 - "$ck" <<'PY'
import sys
import torch
ck = torch.load(sys.argv[1], map_location="cpu")
parts = []
for h in ck.get("history") or []:
    dev = h["device"]
    if dev == "cpu":
        dev = "CPU"
    elif dev.startswith("cuda"):
        # train.py runs CUDA in float32 with TF32 off (fp32_precision "ieee" / allow_tf32 False)
        dev = "an %s GPU, float32, TF32 off" % dev.split(": ", 1)[-1]
    parts.append("%d on %s" % (h["to_step"] - h["from_step"], dev))
print("%d steps%s" % (ck["step"], " (%s)" % " + ".join(parts) if len(parts) > 1 else ""))
PY
)
"$cw" "$ck" --config config.json --scheduler-config scheduler_config.json --dtype f16 \
  -o "$out" \
  --meta "name=twemoji-f16" \
  --meta "license=weights derived from Twemoji graphics (c) Twitter, Inc. and other contributors, CC-BY 4.0 (https://github.com/twitter/twemoji); data from emoji-datasource-twitter 16.0.0, MIT (https://github.com/iamcal/emoji-data)" \
  --meta "data=emoji-datasource-twitter 16.0.0 img/twitter/64: 1906 of 3786 images (skin-tone variants dropped, flags at weight 0.5), composited on white, 2x2 box-averaged to 32x32" \
  --meta "training=weights/twemoji/train.py: $steps, batch 32, Adam 5e-4, EMA 0.9995, seed 20261126" \
  --meta "stats_mean=$(stat mean_per_channel)" \
  --meta "stats_frac_hi=$(stat frac_above_0.8_model_space)" \
  --meta "stats_mean_image_std=$(stat mean_image_std)" \
  --meta "stats_std_of_image_means=$(stat std_of_image_means)" \
  --meta "stats_neighbour_corr=$(stat neighbour_corr)"
