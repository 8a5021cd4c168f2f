#!/bin/sh
# make_grids.sh — the sampler grids shown in the README, made by `sample` itself from the
# built-in default model: 16 images (seeds 0..15) per sampler and step count.
#   samples/sample/make_grids.sh BUILD_DIR [OUT_DIR]     (OUT_DIR: samples/sample/grids)
set -eu
build=${1:?usage: make_grids.sh BUILD_DIR [OUT_DIR]}
out=${2:-$(dirname "$0")/grids}
exe=$build/samples/sample/sample
[ -x "$exe" ] || exe=$build/tests/cli/sample
mkdir -p "$out"
run() { # name, then sample options
    name=$1; shift
    echo "sample $* -n 16 --grid --seed 0 -o $out/$name.png"
    "$exe" "$@" -n 16 --batch 16 --grid --seed 0 -o "$out/$name.png"
}
run ddim-10 --sampler ddim --steps 10
run ddim-50 --sampler ddim --steps 50
run heun-10 --sampler heun --steps 10
run heun-25 --sampler heun --steps 25
run euler_a-25 --sampler euler_a --steps 25
run dpmpp_2m-15 --sampler dpmpp_2m --steps 15
run ddpm-1000 --sampler ddpm --steps 1000
