#!/usr/bin/python3
# An independent numpy reference forward of moondream1 (M1-b), written from the spec alone
# (/work/shared/spec/moondream1.md §1-4, §7.2, §7.4-7.5, §10) and not from our C++ runtime, so that
# agreement between the two means something. It writes the goldens that
# test/model/reference-goldens.test.ts compares the runtime against.
#
# Regenerate (from the repository root, after `npm ci`):
#
#   npm run make-checkpoint -- --size tiny --seed 7 --out /tmp/x && \
#     /usr/bin/python3 scripts/golden/reference_forward.py /tmp/x test/fixtures/golden
#
# Needs only Debian's python3-numpy (`apt-get install -y python3-numpy`); the pyenv python3 on PATH
# may lack it, hence the explicit /usr/bin/python3.
#
# Numerics: the reference's CPU path (spec §7.5) upcasts the F16 weights to fp32 and computes in
# fp32, so everything here is float32 as well. Exact erf, which numpy lacks, is taken from
# math.erf in float64 and rounded to float32 (at most half an fp32 ulp away from an fp32 erf).
# The same forward also runs in float64, and reference.json records how far the float32 goldens
# are from it: the reference's own rounding noise, the floor under any runtime's error.
#
# Outputs (in OUT_DIR):
#   reference.json             seed, checkpoint sha256, prompts, pixel formula, file list, stats
#   logits-<name>.f32.gz       51200 float32 little-endian logits of the last position, gzip
#   vision-embeddings.f32.gz   729 x n_embd float32 little-endian, row-major, gzip
#   vision-embeddings-tanh.f32.gz  the same with tanh GELU in the vision MLPs and the projector: the
#                              semantics of the published moondream2 GGUFs (spec §8.1, 2024-04-02 on),
#                              the oracle for test/model/moondream2-layout.test.ts's vision side
import argparse
import gzip
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np

# ---------------------------------------------------------------------------------------------
# Inputs shared with the TypeScript test (which reads them from reference.json, not from here).

SEED = 7  # the seed the checkpoint in the regenerate command above was made with

BOS = 50256
IMAGE_OPEN = [27, 9060, 29]  # tokenize("<image>"), spec §7.2
# tokenize("</image>\n\nQuestion: What is the title of this book?\n\nAnswer: "), spec §7.2 worked example
QUESTION_TAIL = [3556, 9060, 29, 198, 198, 24361, 25, 1867, 318, 262, 3670, 286, 428, 1492, 30, 198, 198,
                 33706, 25, 220]

# Token-only prompts. The 40-token one takes ids spread over the whole embedding table (a fixed
# stride through 51200, so it includes rows above the tokenizer's last id, which still exist in wte)
# after the real prompt prefix, to exercise positions up to 39 of RoPE and many wte rows.
TEXT_PROMPTS = {
    'bos': [BOS],
    'short': [BOS, 27, 9060, 29, 1867, 318, 262],
    'long40': [BOS] + QUESTION_TAIL + [(1009 + 7919 * i) % 51200 for i in range(19)],
}
assert len(TEXT_PROMPTS['long40']) == 40

# The synthetic image: normalised CHW pixels, computed in float64 and rounded to float32.
# The expression must be evaluated exactly as written (left to right, IEEE double), which JS does
# with Math.fround(Math.sin(0.37 * c + 0.011 * y * 1.3 + 0.017 * x) * 0.9).
PIXEL_FORMULA = 'pixel[c][y][x] = fround(sin(0.37 * c + 0.011 * y * 1.3 + 0.017 * x) * 0.9), float64 then float32, CHW 3x378x378'


def synthetic_pixels(size):
    out = np.empty((3, size, size), dtype=np.float32)
    for c in range(3):
        for y in range(size):
            for x in range(size):
                # math.sin is the C library's double sin, as Math.sin is V8's; both are
                # faithfully rounded, and reference.json records the sha256 of the result so a
                # one-ulp disagreement would be caught by the test rather than hidden.
                out[c, y, x] = math.sin(0.37 * c + 0.011 * y * 1.3 + 0.017 * x) * 0.9
    return out


# ---------------------------------------------------------------------------------------------
# safetensors: 8-byte little-endian header length, a JSON header, then the raw tensor bytes with
# offsets relative to the end of the header.

SAFETENSORS_DTYPES = {'F16': np.float16, 'BF16': None, 'F32': np.float32}


def read_safetensors(path, dtype):
    with open(path, 'rb') as f:
        raw = f.read()
    (header_len,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + header_len].decode('utf-8'))
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        np_dtype = SAFETENSORS_DTYPES.get(info['dtype'])
        if np_dtype is None:
            raise ValueError(f'{name}: dtype {info["dtype"]} not handled')
        start, end = info['data_offsets']
        array = np.frombuffer(raw, dtype=np.dtype(np_dtype).newbyteorder('<'), count=(end - start) // np.dtype(np_dtype).itemsize,
                              offset=base + start).reshape(info['shape'])
        tensors[name] = array.astype(dtype)  # F16 -> f32 is exact
    return tensors


# ---------------------------------------------------------------------------------------------
# Dimensions from config.json; an absent key means the real moondream1 value (spec §1, §4).

def read_dims(path):
    with open(path) as f:
        config = json.load(f)
    phi = config.get('phi_config', {})
    vis = config.get('vision_config', {})
    text = dict(
        n_embd=phi.get('n_embd', 2048), n_head=phi.get('n_head', 32), n_layer=phi.get('n_layer', 24),
        n_inner=phi.get('n_inner', None), vocab_size=phi.get('vocab_size', 51200),
        rotary_dim=phi.get('rotary_dim', 32), eps=phi.get('layer_norm_epsilon', 1e-5),
    )
    if text['n_inner'] is None:
        text['n_inner'] = 4 * text['n_embd']
    head_dim = text['n_embd'] // text['n_head']
    text['rotary_dim'] = min(text['rotary_dim'], head_dim)  # phi-msft clamps it (spec §4)
    vision = dict(
        hidden=vis.get('hidden_size', 1152), n_head=vis.get('num_attention_heads', 16),
        n_layer=vis.get('num_hidden_layers', 27), mlp=vis.get('intermediate_size', 4304),
        proj_hidden=vis.get('projection_intermediate_size', 8192), eps=vis.get('layer_norm_eps', 1e-6),
        image_size=vis.get('image_size', 378), patch=vis.get('patch_size', 14),
    )
    return text, vision


# ---------------------------------------------------------------------------------------------
# Building blocks. `dt` is the compute dtype; every intermediate is kept in it.

def layer_norm(x, weight, bias, eps, dt):
    mean = x.mean(axis=-1, keepdims=True, dtype=dt)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True, dtype=dt)
    return (centred / np.sqrt(var + dt(eps)) * weight + bias).astype(dt)


def linear(x, weight, bias):
    # weight is PyTorch [out, in]
    return x @ weight.T + bias


_erf = np.vectorize(math.erf, otypes=[np.float64])


def gelu_erf(x, dt):
    # nn.GELU() default: 0.5 x (1 + erf(x / sqrt 2)) (spec §1, §2)
    e = _erf((x / dt(math.sqrt(2.0))).astype(np.float64)).astype(dt)
    return (dt(0.5) * x * (dt(1.0) + e)).astype(dt)


def gelu_tanh(x, dt):
    # gelu_new: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (spec §4)
    c = dt(math.sqrt(2.0 / math.pi))
    return (dt(0.5) * x * (dt(1.0) + np.tanh(c * (x + dt(0.044715) * x * x * x)))).astype(dt)


def softmax(scores, dt):
    m = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - m)
    return (e / e.sum(axis=-1, keepdims=True, dtype=dt)).astype(dt)


# ---------------------------------------------------------------------------------------------
# Vision: SigLIP with a linear patch embedding, then the MLP projector (spec §1, §2, §10 steps 2-4).

VIS = 'vision_encoder.encoder.model.visual.'
PROJ = 'vision_encoder.projection.mlp.'


def vision_forward(w, pixels, dims, dt, gelu=gelu_erf):
    p = dims['patch']
    side = dims['image_size'] // p
    hidden, n_head = dims['hidden'], dims['n_head']
    head_dim = hidden // n_head
    # b c (h p1) (w p2) -> b (h w) (c p1 p2): patch index = row * side + col, inputs channel-major
    patches = pixels.astype(dt).reshape(3, side, p, side, p).transpose(1, 3, 0, 2, 4).reshape(side * side, 3 * p * p)
    x = linear(patches, w[VIS + 'patch_embed.linear.weight'], w[VIS + 'patch_embed.linear.bias'])
    x = (x + w[VIS + 'pos_embed'][0]).astype(dt)
    n = x.shape[0]
    scale = dt(1.0 / math.sqrt(head_dim))
    for i in range(dims['n_layer']):
        b = f'{VIS}blocks.{i}.'
        h = layer_norm(x, w[b + 'norm1.weight'], w[b + 'norm1.bias'], dims['eps'], dt)
        qkv = linear(h, w[b + 'attn.qkv.weight'], w[b + 'attn.qkv.bias'])
        # (3, heads, head_dim) on the output axis: Q rows first, then K, then V, each head-major
        qkv = qkv.reshape(n, 3, n_head, head_dim).transpose(1, 2, 0, 3)  # [3, head, n, d]
        q, k, v = qkv[0], qkv[1], qkv[2]
        att = softmax((q @ k.transpose(0, 2, 1)) * scale, dt)  # no mask: bidirectional
        o = (att @ v).transpose(1, 0, 2).reshape(n, hidden)
        x = (x + linear(o, w[b + 'attn.proj.weight'], w[b + 'attn.proj.bias'])).astype(dt)
        h = layer_norm(x, w[b + 'norm2.weight'], w[b + 'norm2.bias'], dims['eps'], dt)
        m = gelu(linear(h, w[b + 'mlp.fc1.weight'], w[b + 'mlp.fc1.bias']), dt)
        x = (x + linear(m, w[b + 'mlp.fc2.weight'], w[b + 'mlp.fc2.bias'])).astype(dt)
    x = layer_norm(x, w[VIS + 'norm.weight'], w[VIS + 'norm.bias'], dims['eps'], dt)
    m = gelu(linear(x, w[PROJ + 'fc1.weight'], w[PROJ + 'fc1.bias']), dt)
    return linear(m, w[PROJ + 'fc2.weight'], w[PROJ + 'fc2.bias']).astype(dt)


# ---------------------------------------------------------------------------------------------
# Text: Phi-1.5 (phi-msft) with parallel blocks (spec §4, §7.4, §10 step 6).

TXT = 'text_model.'


def rope(x, positions, rotary_dim, dt):
    """NeoX half-split rotary on the first rotary_dim dims of each head; x is [head, n, head_dim]."""
    half = rotary_dim // 2
    inv_freq = 1.0 / (10000.0 ** (np.arange(0, rotary_dim, 2, dtype=dt) / dt(rotary_dim)))
    # Angles in the compute dtype, as the reference's fp32 outer(t, inv_freq) does.
    angles = np.outer(positions.astype(dt), inv_freq.astype(dt)).astype(dt)  # [n, half]
    cos, sin = np.cos(angles), np.sin(angles)
    x1, x2, rest = x[..., :half], x[..., half:rotary_dim], x[..., rotary_dim:]
    return np.concatenate([x1 * cos - x2 * sin, x1 * sin + x2 * cos, rest], axis=-1).astype(dt)


def text_forward(w, inputs, dims, dt):
    """inputs: [L, n_embd] input embeddings (token rows or image rows); returns last-position logits."""
    n_embd, n_head = dims['n_embd'], dims['n_head']
    head_dim = n_embd // n_head
    x = inputs.astype(dt)
    n = x.shape[0]
    positions = np.arange(n)  # sequential over every prefix entry, image rows included (spec §7.4)
    scale = dt(1.0 / math.sqrt(head_dim))
    causal = np.triu(np.ones((n, n), dtype=bool), k=1)  # True above the diagonal = future = masked
    for i in range(dims['n_layer']):
        b = f'{TXT}transformer.h.{i}.'
        h = layer_norm(x, w[b + 'ln.weight'], w[b + 'ln.bias'], dims['eps'], dt)
        qkv = linear(h, w[b + 'mixer.Wqkv.weight'], w[b + 'mixer.Wqkv.bias'])
        qkv = qkv.reshape(n, 3, n_head, head_dim).transpose(1, 2, 0, 3)  # (three, h, d) layout
        q = rope(qkv[0], positions, dims['rotary_dim'], dt)
        k = rope(qkv[1], positions, dims['rotary_dim'], dt)
        v = qkv[2]
        scores = (q @ k.transpose(0, 2, 1)) * scale
        # The reference fills with -10000, not -inf; after the max-subtraction exp(-10000 - m)
        # underflows to exactly 0 in fp32 for any score this model produces, so -inf is the same.
        scores = np.where(causal, dt(-np.inf), scores)
        o = (softmax(scores, dt) @ v).transpose(1, 0, 2).reshape(n, n_embd)
        attn = linear(o, w[b + 'mixer.out_proj.weight'], w[b + 'mixer.out_proj.bias'])
        mlp = linear(gelu_tanh(linear(h, w[b + 'mlp.fc1.weight'], w[b + 'mlp.fc1.bias']), dt),
                     w[b + 'mlp.fc2.weight'], w[b + 'mlp.fc2.bias'])
        x = (x + attn + mlp).astype(dt)  # parallel block: one LN feeds both branches
    last = layer_norm(x[-1:], w[TXT + 'lm_head.ln.weight'], w[TXT + 'lm_head.ln.bias'], dims['eps'], dt)
    return linear(last, w[TXT + 'lm_head.linear.weight'], w[TXT + 'lm_head.linear.bias'])[0].astype(dt)


def token_embeddings(w, ids, dt):
    return w[TXT + 'transformer.embd.wte.weight'][np.asarray(ids, dtype=np.int64)].astype(dt)


def mixed_inputs(w, image_rows, dt):
    """[BOS] + <image> + 729 image rows + </image>... (spec §7.2): the image rows replace token rows."""
    return np.concatenate([
        token_embeddings(w, [BOS] + IMAGE_OPEN, dt),
        image_rows.astype(dt),
        token_embeddings(w, QUESTION_TAIL, dt),
    ], axis=0)


# ---------------------------------------------------------------------------------------------

def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def write_f32_gz(path, array):
    data = np.ascontiguousarray(array, dtype='<f4').tobytes()
    # mtime 0 and no file name in the gzip header: the same values give the same bytes
    with open(path, 'wb') as raw, gzip.GzipFile(filename='', mode='wb', fileobj=raw, mtime=0, compresslevel=9) as f:
        f.write(data)


def rel_err(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


def main():
    parser = argparse.ArgumentParser(description='numpy reference forward of moondream1; writes goldens')
    parser.add_argument('checkpoint', help='folder with model.safetensors and config.json')
    parser.add_argument('out', help='folder for the goldens')
    parser.add_argument('--seed', type=int, default=SEED, help='seed the checkpoint was made with (recorded only)')
    args = parser.parse_args()

    model_path = os.path.join(args.checkpoint, 'model.safetensors')
    text_dims, vision_dims = read_dims(os.path.join(args.checkpoint, 'config.json'))
    pixels = synthetic_pixels(vision_dims['image_size'])

    def run(dt):
        w = read_safetensors(model_path, dt)
        logits = {name: text_forward(w, token_embeddings(w, ids, dt), text_dims, dt) for name, ids in TEXT_PROMPTS.items()}
        image = vision_forward(w, pixels, vision_dims, dt)
        image_tanh = vision_forward(w, pixels, vision_dims, dt, gelu=gelu_tanh)
        return w, logits, image, image_tanh

    w, logits, image, image_tanh = run(np.float32)
    # The mixed sequence uses the float32 reference image rows, which the golden stores, so a
    # runtime can be fed exactly these rows and compared on the text side alone.
    mixed = text_forward(w, mixed_inputs(w, image, np.float32), text_dims, np.float32)
    logits['mixed'] = mixed

    os.makedirs(args.out, exist_ok=True)
    files = {}
    for name, values in logits.items():
        file = f'logits-{name}.f32.gz'
        write_f32_gz(os.path.join(args.out, file), values)
        files[name] = file
    write_f32_gz(os.path.join(args.out, 'vision-embeddings.f32.gz'), image)
    write_f32_gz(os.path.join(args.out, 'vision-embeddings-tanh.f32.gz'), image_tanh)

    stats = {}
    for name, values in logits.items():
        v = values.astype(np.float64)
        stats[name] = {'argmax': int(np.argmax(v)), 'max': float(v.max()), 'maxAbs': float(np.abs(v).max()), 'std': float(v.std())}
    stats['vision'] = {'maxAbs': float(np.abs(image).max()), 'std': float(image.astype(np.float64).std())}
    stats['visionTanh'] = {'maxAbs': float(np.abs(image_tanh).max()), 'std': float(image_tanh.astype(np.float64).std()),
                           'maxRelDiffFromErf': rel_err(image_tanh, image)}

    w64, logits64, image64, image_tanh64 = run(np.float64)
    logits64['mixed'] = text_forward(w64, mixed_inputs(w64, image.astype(np.float64), np.float64), text_dims, np.float64)
    float64_check = {name: rel_err(logits[name], logits64[name]) for name in logits}
    float64_check['vision'] = rel_err(image, image64)
    float64_check['visionTanh'] = rel_err(image_tanh, image_tanh64)

    reference = {
        'about': 'Goldens from scripts/golden/reference_forward.py (numpy, float32), an independent moondream1 forward written from the spec.',
        'regenerate': 'npm run make-checkpoint -- --size tiny --seed 7 --out /tmp/x && /usr/bin/python3 scripts/golden/reference_forward.py /tmp/x test/fixtures/golden',
        'checkpoint': {'size': 'tiny', 'seed': args.seed, 'modelSha256': sha256_file(model_path)},
        'textPrompts': TEXT_PROMPTS,
        'mixed': {
            'before': [BOS] + IMAGE_OPEN, 'after': QUESTION_TAIL, 'imageRows': int(image.shape[0]),
            'note': 'image rows are the golden vision embeddings (vision-embeddings.f32.gz), positions 4..732',
        },
        'pixels': {'formula': PIXEL_FORMULA, 'sha256': hashlib.sha256(pixels.astype('<f4').tobytes()).hexdigest()},
        'logits': files,
        'vision': {'file': 'vision-embeddings.f32.gz', 'rows': int(image.shape[0]), 'width': int(image.shape[1])},
        'visionTanh': {'file': 'vision-embeddings-tanh.f32.gz', 'rows': int(image_tanh.shape[0]), 'width': int(image_tanh.shape[1]),
                       'note': 'tanh GELU (gelu_new) in the vision MLPs and the projector, as the published moondream2 GGUFs'},
        'format': 'float32 little-endian, gzip; vision row-major',
        'stats': stats,
        'float32VsFloat64MaxRelErr': float64_check,
        'numpy': np.__version__,
    }
    with open(os.path.join(args.out, 'reference.json'), 'w') as f:
        json.dump(reference, f, indent=2)
        f.write('\n')
    json.dump({'stats': stats, 'float32VsFloat64MaxRelErr': float64_check}, sys.stdout, indent=2)
    print()


if __name__ == '__main__':
    main()
