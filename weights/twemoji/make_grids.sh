#!/bin/sh
# make_grids.sh — the sample grids in samples/grids/, made by `sample` with the built-in
# default model (16 images, seeds 1..16, one grid per sampler and step count).
# usage: weights/twemoji/make_grids.sh BUILD_DIR   (BUILD_DIR holds samples/sample/sample)
set -eu
sample="${1:?usage: make_grids.sh BUILD_DIR}/samples/sample/sample"
out="$(cd "$(dirname "$0")/../.." && pwd)/samples/grids"
mkdir -p "$out"
"$sample" -n 16 --grid --seed 1 --sampler ddim --steps 10 -o "$out/ddim-10.png"
"$sample" -n 16 --grid --seed 1 --sampler ddim --steps 50 -o "$out/ddim-50.png"
"$sample" -n 16 --grid --seed 1 --sampler heun --steps 10 -o "$out/heun-10.png"
"$sample" -n 16 --grid --seed 1 --sampler heun --steps 25 -o "$out/heun-25.png"
"$sample" -n 16 --grid --seed 1 --sampler dpmpp_2m --steps 20 -o "$out/dpmpp_2m-20.png"
if [ "${DDPM:-1}" = 1 ]; then
  "$sample" -n 16 --grid --seed 1 --sampler ddpm --steps 1000 -o "$out/ddpm-1000.png"
fi
