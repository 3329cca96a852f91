#!/usr/bin/python3
# The golden of the native smoke test (native/test/runtime_smoke.cpp) and of its Node twin
# (test/model/native-smoke.test.ts): one question about one small raw RGB image, answered by the
# independent numpy reference of scripts/golden/reference_forward.py with greedy decoding, the
# image preprocessed by Pillow. Both runtimes must give exactly these tokens and this answer.
#
# Regenerate (from the repository root, after `npm ci`):
#
#   npm run make-checkpoint -- --size tiny --seed 7 --out /tmp/x && \
#     /usr/bin/python3 scripts/golden/native_smoke.py /tmp/x
#
# Needs Debian's python3-numpy and python3-pil. Writes test/fixtures/golden/native-smoke-56x40.rgb
# (the image, raw RGB, so the C++ program needs no decoder) and native-smoke.json.
import argparse
import hashlib
import json
import math
import os
import sys

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_forward as ref  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDEN = os.path.join(ROOT, 'test', 'fixtures', 'golden')
IMAGE_NAME = 'native-smoke-56x40.rgb'
WIDTH, HEIGHT = 56, 40  # smaller than the input on both sides: both resampling passes run
QUESTION = 'What is the title of this book?'  # its prompt is spec §7.2's worked example
MAX_TOKENS = 12
STOP = [27, 10619, 29]  # tokenize("<END>"), moondream1's stop set (spec §7.3)
STRIP_SUFFIXES = ['END', '<']
MEAN = STD = 0.5  # moondream1's clip.vision.image_mean / image_std


def smoke_image():
    """Smooth colour ramps with a few sharp edges, deterministic, as raw RGB bytes."""
    out = bytearray()
    for y in range(HEIGHT):
        for x in range(WIDTH):
            edge = 60 if (x // 8 + y // 8) % 2 else 0
            out += bytes([(x * 4 + edge) % 256, (y * 6 + 20) % 256, (255 - x * 2 - y * 3 + edge) % 256])
    return bytes(out)


def preprocess(rgb, side):
    """Pillow's resize((side, side), BICUBIC), then torch's ToDtype(scale=True) + Normalize in float32."""
    resized = np.asarray(Image.frombytes('RGB', (WIDTH, HEIGHT), rgb).resize((side, side), Image.BICUBIC), dtype=np.float32)
    scaled = resized * np.float32(1.0 / 255.0)
    return ((scaled - np.float32(MEAN)) / np.float32(STD)).astype(np.float32).transpose(2, 0, 1)


def byte_decoder():
    """GPT-2's byte-level alphabet, inverted: the character a byte is shown as -> the byte."""
    printable = list(range(ord('!'), ord('~') + 1)) + list(range(ord('¡'), ord('¬') + 1)) + list(range(ord('®'), ord('ÿ') + 1))
    shown = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            shown.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, shown)}


def detokenize(tokenizer, ids):
    """HF decode with skip_special_tokens=True: added tokens literally, the rest byte-level."""
    vocab = {i: t for t, i in tokenizer['model']['vocab'].items()}
    added = {t['id']: t for t in tokenizer['added_tokens']}
    decode_byte = byte_decoder()
    out = bytearray()
    for i in ids:
        if i in added:
            if not added[i]['special']:
                out += added[i]['content'].encode('utf-8')
        elif i in vocab:
            out += bytes(decode_byte[c] for c in vocab[i])
        # ids past the tokenizer (the embedding table's filler rows) decode to nothing
    return out.decode('utf-8', errors='replace')


def postprocess(text):
    for suffix in STRIP_SUFFIXES:
        if text.endswith(suffix):
            text = text[:-len(suffix)]
    return text.strip()


def main():
    parser = argparse.ArgumentParser(description='golden of the native smoke test')
    parser.add_argument('checkpoint', help='the tiny checkpoint, seed 7 (model.safetensors, config.json, tokenizer.json)')
    args = parser.parse_args()

    rgb = smoke_image()
    with open(os.path.join(GOLDEN, IMAGE_NAME), 'wb') as f:
        f.write(rgb)
    model_path = os.path.join(args.checkpoint, 'model.safetensors')
    text_dims, vision_dims = ref.read_dims(os.path.join(args.checkpoint, 'config.json'))
    with open(os.path.join(args.checkpoint, 'tokenizer.json')) as f:
        tokenizer = json.load(f)
    dt = np.float32
    w = ref.read_safetensors(model_path, dt)

    rows = ref.vision_forward(w, preprocess(rgb, vision_dims['image_size']), vision_dims, dt)
    prefix = [ref.BOS] + ref.IMAGE_OPEN
    suffix = ref.QUESTION_TAIL
    context = np.concatenate([ref.token_embeddings(w, prefix, dt), rows, ref.token_embeddings(w, suffix, dt)], axis=0)
    tokens = []
    margins = []
    for _ in range(MAX_TOKENS):
        logits = ref.text_forward(w, context, text_dims, dt).astype(np.float64)
        order = np.argsort(-logits)
        token = int(order[0])
        # How far the chosen logit is above the runner-up, relative to the logits' scale: a
        # runtime within ~1e-4 of the reference cannot flip a choice with a margin far above that.
        margins.append(float((logits[order[0]] - logits[order[1]]) / np.abs(logits).max()))
        tokens.append(token)
        if token in STOP:
            break
        context = np.concatenate([context, ref.token_embeddings(w, [token], dt)], axis=0)

    fixture = {
        'about': 'Golden of native/test/runtime_smoke.cpp and test/model/native-smoke.test.ts, from scripts/golden/native_smoke.py '
                 '(numpy reference forward, Pillow preprocessing, greedy decoding).',
        'regenerate': 'npm run make-checkpoint -- --size tiny --seed 7 --out /tmp/x && /usr/bin/python3 scripts/golden/native_smoke.py /tmp/x',
        'checkpoint': {'size': 'tiny', 'seed': 7, 'modelSha256': ref.sha256_file(model_path)},
        'model': {'textType': 'f32', 'visionType': 'f32', 'kvCacheType': 'f32', 'gelu': 'exact'},
        'image': {'file': IMAGE_NAME, 'width': WIDTH, 'height': HEIGHT, 'sha256': hashlib.sha256(rgb).hexdigest()},
        'question': QUESTION,
        'prompt': {'prefix': prefix, 'suffix': suffix},
        'maxTokens': MAX_TOKENS,
        'expected': {
            'tokens': tokens,
            'stoppedByToken': tokens[-1] in STOP,
            'answer': postprocess(detokenize(tokenizer, tokens)),
        },
        'smallestRelativeMargin': min(margins),
    }
    with open(os.path.join(GOLDEN, 'native-smoke.json'), 'w') as f:
        json.dump(fixture, f, indent=2, ensure_ascii=False)
        f.write('\n')
    json.dump({'tokens': tokens, 'answer': fixture['expected']['answer'], 'margins': margins}, sys.stdout, ensure_ascii=False, indent=1)
    print()


if __name__ == '__main__':
    main()
