#!/usr/bin/python3
# How far from the f32 vision embeddings must an f16 or q8_0 mmproj land, whoever computes it?
#
# The vision forward of reference_forward.py (written from the spec), run in PyTorch with each
# matrix multiplication done the way ggml's CPU backend defines it for the weight's storage type,
# and nothing else changed:
#   f16 weight:  the activations are rounded to f16 too (ggml's vec_dot_type for f16), f32 sums.
#   q8_0 weight: the weight rows are quantized to q8_0 (blocks of 32: d = amax/127 stored as f16,
#                q = round(x/d)), and so are the activations (q8_0 is q8_0's vec_dot_type).
# Which tensors are f16 or q8_0 follows our converter's rules (and llama.cpp's): the patch kernel
# and position table f16, every 2D weight q8_0 in a q8_0 mmproj except where 32 does not divide
# the row (the 4304-wide fc2), which stays f16. The result is the error that the storage formats
# themselves imply, to compare with what `npm run parity:full` measures on our runtime.
#
#   /usr/bin/python3 scripts/golden/quantized_vision_error.py CHECKPOINT_DIR
#
# Needs Debian's python3-torch and python3-numpy. Pixels: the benchmark's (benchPixels() in
# scripts/bench/vision.ts): pixel[i] = fround(sin(0.001 i) * 0.9) over the CHW array.
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_forward import PROJ, VIS, read_dims, read_safetensors  # noqa: E402

torch.set_grad_enabled(False)


def bench_pixels(size):
    i = np.arange(3 * size * size, dtype=np.float64)
    return (np.sin(i * 0.001) * 0.9).astype(np.float32).reshape(3, size, size)


def q8_0(x):
    """ggml's q8_0 round trip along the last axis (blocks of 32)."""
    shape = x.shape
    blocks = x.reshape(-1, 32)
    amax = blocks.abs().amax(dim=1, keepdim=True)
    d = amax / 127.0
    inv = torch.where(d > 0, 1.0 / d, torch.zeros_like(d))
    q = torch.round(blocks * inv).clamp(-128, 127)
    return (q * d.half().float()).reshape(shape)


def make_linear(kind):
    def linear(x, weight, bias, storage):
        if kind == 'f32' or storage == 'f32':
            y = x @ weight.T
        elif storage == 'f16':
            y = x.half().float() @ weight.half().float().T
        else:  # q8_0: both operands quantized, products summed exactly (int) then scaled
            y = (q8_0(x).double() @ q8_0(weight).double().T).float()
        return y + bias
    return linear


def storage_of(weight, kind):
    if kind == 'f32':
        return 'f32'
    if kind == 'f16' or weight.shape[-1] % 32 != 0:
        return 'f16'
    return 'q8_0'


def layer_norm(x, w, b, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)


def vision(w, pixels, dims, kind):
    lin = make_linear(kind)
    L = lambda x, name: lin(x, w[name + '.weight'], w[name + '.bias'], storage_of(w[name + '.weight'], kind))
    gelu = lambda x: torch.nn.functional.gelu(x)  # erf GELU (spec §1, §2)
    p, side = dims['patch'], dims['image_size'] // dims['patch']
    hidden, n_head = dims['hidden'], dims['n_head']
    hd = hidden // n_head
    patches = torch.from_numpy(pixels).reshape(3, side, p, side, p).permute(1, 3, 0, 2, 4).reshape(side * side, 3 * p * p)
    # Patch kernel and position table: f16 in f16 and q8_0 files.
    x = lin(patches, w[VIS + 'patch_embed.linear.weight'], w[VIS + 'patch_embed.linear.bias'], 'f32' if kind == 'f32' else 'f16')
    pos = w[VIS + 'pos_embed'][0]
    x = x + (pos if kind == 'f32' else pos.half().float())
    n = x.shape[0]
    for i in range(dims['n_layer']):
        b = f'{VIS}blocks.{i}.'
        h = layer_norm(x, w[b + 'norm1.weight'], w[b + 'norm1.bias'], dims['eps'])
        # The converter splits qkv into Q, K and V: quantize them as the three tensors they become.
        qkv_w, qkv_b = w[b + 'attn.qkv.weight'], w[b + 'attn.qkv.bias']
        parts = [lin(h, qkv_w[j * hidden:(j + 1) * hidden], qkv_b[j * hidden:(j + 1) * hidden], storage_of(qkv_w, kind)) for j in range(3)]
        q, k, v = (t.reshape(n, n_head, hd).transpose(0, 1) for t in parts)
        att = torch.softmax((q @ k.transpose(1, 2)) / math.sqrt(hd), dim=-1)
        o = (att @ v).transpose(0, 1).reshape(n, hidden)
        x = x + L(o, b + 'attn.proj')
        h = layer_norm(x, w[b + 'norm2.weight'], w[b + 'norm2.bias'], dims['eps'])
        x = x + L(gelu(L(h, b + 'mlp.fc1')), b + 'mlp.fc2')
    x = layer_norm(x, w[VIS + 'norm.weight'], w[VIS + 'norm.bias'], dims['eps'])
    return L(gelu(L(x, PROJ + 'fc1')), PROJ + 'fc2')


def main():
    checkpoint = sys.argv[1]
    _, dims = read_dims(os.path.join(checkpoint, 'config.json'))
    raw = read_safetensors(os.path.join(checkpoint, 'model.safetensors'), np.float32)
    w = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in raw.items() if k.startswith('vision_encoder.')}
    pixels = bench_pixels(dims['image_size'])
    ref = vision(w, pixels, dims, 'f32').double()
    print(f'{checkpoint}: {dims["n_layer"]} blocks, width {dims["hidden"]}')
    print('| mmproj | max abs difference / max abs (f32) | RMS difference / RMS (f32) |')
    print('|---|---|---|')
    for kind in ('f16', 'q8_0'):
        d = vision(w, pixels, dims, kind).double() - ref
        print(f'| {kind} | {d.abs().max().item() / ref.abs().max().item():.2e} | {d.norm().item() / ref.norm().item():.2e} |')


if __name__ == '__main__':
    main()
