#!/usr/bin/python3
"""Makes the image fixtures and their Pillow goldens under test/fixtures/images/.

Run with Debian's python (it has python3-pil and python3-numpy; python3-torch is optional):

    apt-get install -y python3-pil python3-numpy [python3-torch]
    /usr/bin/python3 scripts/golden/make-image-fixtures.py

Every fixture is drawn by code (no third-party pictures, so no licence questions). Each golden is
what moondream1's own preprocessing produces for the fixture file as written to disk:
    Image.open(path).convert("RGB").resize((378, 378), Image.BICUBIC)
stored as 378*378*3 uint8 bytes, residuals of the gradient predictor (see write_golden), gzipped,
and named by content hash so that fixtures with the same golden share one file.

manifest.json lists every fixture and golden with the sha256 of the raw bytes, so the tests need
no Python. Fixtures that cannot match Pillow, and why, are listed there too.
"""

import gzip
import hashlib
import io
import json
import os
import struct
import sys

import numpy as np
import PIL
from PIL import Image, ImageCms, ImageDraw, ImageFont

TARGET = (378, 378)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "test", "fixtures", "images")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

rng = np.random.RandomState(20240206)


# ---- pictures ---------------------------------------------------------------------------------

def gradient_checker(w, h, cell=8):
    """Colour ramps on both axes with a hard-edged checkerboard: sharp edges show ringing."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = 255 * (1 - x / max(w - 1, 1)) * (y / max(h - 1, 1))
    checker = ((x // cell + y // cell) % 2 == 0)
    rgb = np.stack([r, g, b], -1)
    rgb[checker] = 255 - rgb[checker]
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def smooth_with_lines(w, h):
    """Soft blobs plus one-pixel lines: smooth areas compress well, lines exercise the kernel."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    rgb = np.zeros((h, w, 3))
    for cx, cy, s, col in [(0.3, 0.3, 0.2, (255, 60, 20)), (0.7, 0.4, 0.25, (30, 200, 90)),
                           (0.5, 0.8, 0.3, (40, 80, 255))]:
        d = ((x / w - cx) ** 2 + (y / h - cy) ** 2) / (s * s)
        rgb += np.exp(-d)[..., None] * np.array(col)
    rgb = np.clip(rgb + 20, 0, 255)
    rgb[::37, :, :] = 255
    rgb[:, ::53, :] = 0
    return np.round(rgb).astype(np.uint8)


def photoish(w, h):
    """Smooth picture with mild seeded noise, so that JPEG has real texture to code."""
    base = smooth_with_lines(w, h).astype(np.int16)
    noise = rng.randint(-3, 4, size=base.shape)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def text_image(w, h):
    img = Image.new("RGB", (w, h), (250, 248, 240))
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 28) if os.path.exists(FONT) else ImageFont.load_default()
    small = ImageFont.truetype(FONT, 14) if os.path.exists(FONT) else ImageFont.load_default()
    draw.text((12, 10), "Question: what is this?", fill=(10, 10, 10), font=font)
    draw.text((12, 60), "Answer: a receipt, 3 x 4.99 = 14.97", fill=(200, 20, 20), font=font)
    draw.text((12, 120), "moondream1 preprocessing golden - small print 0123456789", fill=(20, 20, 160), font=small)
    draw.line((0, h - 20, w, h - 20), fill=(0, 0, 0), width=1)
    return img


# ---- writers ----------------------------------------------------------------------------------

fixtures = []
resize_cases = []


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def write_golden(rgb_bytes, width, height):
    """Stores x - (left + up - up_left) mod 256 per channel (zero outside the image), gzipped with
    a fixed mtime so that regenerating gives identical files; the tests undo the prediction.
    Returns the file name, which is derived from the content."""
    raw = np.frombuffer(rgb_bytes, dtype=np.uint8).reshape(height, width, 3).astype(np.int32)
    pred = np.zeros_like(raw)
    pred[:, 1:] += raw[:, :-1]
    pred[1:, :] += raw[:-1, :]
    pred[1:, 1:] -= raw[:-1, :-1]
    name = f"golden-{sha256(rgb_bytes)[:16]}.gz"
    write_gzip(name, ((raw - pred) % 256).astype(np.uint8).tobytes())
    return name


def write_gzip(name, data):
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as f:
        f.write(data)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(buf.getvalue())


def pil_reference(path):
    """moondream1's preprocessing up to the uint8 tensor (spec: moondream1 section 3)."""
    with Image.open(path) as im:
        return im.convert("RGB").resize(TARGET, Image.Resampling.BICUBIC)


def add(name, save, note, exact=True, reference=None, reason=None):
    """Writes a fixture with save(path), reopens it from disk and writes its golden."""
    path = os.path.join(OUT, name)
    save(path)
    with Image.open(path) as im:
        width, height, mode, fmt = im.width, im.height, im.mode, im.format
        frames = getattr(im, "n_frames", 1)
    golden_img = reference(path) if reference else pil_reference(path)
    golden = golden_img.tobytes()
    assert len(golden) == TARGET[0] * TARGET[1] * 3
    golden_name = write_golden(golden, *TARGET)
    entry = {"file": name, "format": fmt, "pilMode": mode, "width": width, "height": height,
             "frames": frames, "golden": golden_name, "sha256": sha256(golden), "exact": exact,
             "note": note}
    if reason:
        entry["reason"] = reason
    fixtures.append(entry)


def save_array(arr, mode=None, **kw):
    def save(path):
        Image.fromarray(arr, mode).save(path, **kw)
    return save


def save_image(img, **kw):
    def save(path):
        img.save(path, **kw)
    return save


def swapped_primaries_profile():
    """An sRGB profile with its red and blue primaries swapped: a colour-managed decoder would
    change every pixel a lot, so the fixture proves the profile is ignored (as PIL does)."""
    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = struct.unpack(">I", icc[128:132])[0]
    entries = {}
    for i in range(count):
        at = 132 + 12 * i
        sig = bytes(icc[at:at + 4])
        entries[sig] = at
    r, b = entries[b"rXYZ"], entries[b"bXYZ"]
    icc[r + 4:r + 12], icc[b + 4:b + 12] = icc[b + 4:b + 12], icc[r + 4:r + 12]
    icc[24:36] = bytes(12)  # creation date: zeroed so that regenerating gives the same file
    icc[84:100] = bytes(16)  # profile id (MD5) no longer matches; zero means "not computed"
    return bytes(icc)


# ---- the fixture set --------------------------------------------------------------------------

def make_fixtures():
    grad = gradient_checker(64, 48)
    add("grad_checker_64x48.png", save_array(grad), "RGB PNG, enlarged on both axes")
    add("wide_1000x120.png", save_array(gradient_checker(1000, 120, cell=10)),
        "x shrinks (antialiased support), y enlarges: the case no sharp kernel gets right")
    add("tall_90x700.png", save_array(gradient_checker(90, 700, cell=9)), "x enlarges, y shrinks")
    smooth = smooth_with_lines(600, 450)
    add("smooth_600x450.png", save_array(smooth), "RGB PNG, shrinks on both axes")
    add("exact_378x378.png", save_array(gradient_checker(378, 378, cell=7)),
        "already 378x378: Pillow returns it unchanged, no resampling")
    add("same_width_378x200.png", save_array(gradient_checker(378, 200, cell=6)),
        "width already 378: Pillow skips the horizontal pass")
    add("same_height_500x378.png", save_array(gradient_checker(500, 378, cell=6)),
        "height already 378: Pillow skips the vertical pass")
    add("one_pixel_1x1.png", save_array(np.array([[[200, 30, 90]]], dtype=np.uint8)), "1x1 RGB PNG")
    add("text_640x200.png", save_image(text_image(640, 200)), "text rendered by PIL/FreeType")

    # Alpha: PIL convert("RGB") drops alpha and keeps the colour under it, even under alpha 0.
    rgba = np.concatenate([smooth_with_lines(320, 240), np.zeros((240, 320, 1), np.uint8)], -1)
    rgba[:, :, 3] = np.tile(np.linspace(0, 255, 320).astype(np.uint8), (240, 1))
    rgba[:80, :, 3] = 0
    rgba[160:, :, 3] = 255
    add("rgba_alpha_320x240.png", save_array(rgba, "RGBA"), "RGBA PNG, alpha 0 / ramp / 255 bands")
    la = np.stack([smooth_with_lines(200, 150)[:, :, 1], np.tile(np.linspace(0, 255, 200).astype(np.uint8), (150, 1))], -1)
    add("la_200x150.png", save_array(la, "LA"), "greyscale + alpha PNG")

    grey = smooth_with_lines(240, 180)[:, :, 0]
    add("grey_240x180.png", save_array(grey, "L"), "8-bit greyscale PNG, replicated to 3 channels")
    pal = Image.fromarray(smooth_with_lines(240, 180)).quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    add("palette_240x180.png", save_image(pal), "palette PNG, expanded through the palette")
    pal_t = pal.copy()
    pal_t.info["transparency"] = 3
    add("palette_trns_240x180.png", save_image(pal_t, transparency=3),
        "palette PNG with a tRNS entry: PIL keeps the palette colour under the transparent index")

    # 16-bit: PIL keeps the high byte of 16-bit RGB PNGs.
    rgb16 = (gradient_checker(120, 90, cell=10).astype(np.uint16) * 257 + rng.randint(0, 256, size=(90, 120, 3))).astype(">u2")
    add("rgb16_120x90.png", lambda p: write_png16_rgb(p, rgb16), "16-bit RGB PNG: high byte kept")
    grey16 = (smooth_with_lines(200, 150)[:, :, 2].astype(np.uint16) * 256 + rng.randint(0, 256, size=(150, 200))).astype(np.uint16)
    add("grey16_200x150.png", save_image(Image.fromarray(grey16, "I;16")),
        "16-bit greyscale PNG, reduced to its high byte",
        exact=False, reference=lambda p: high_byte_reference(p),
        reason="Pillow opens 16-bit grey PNGs as mode I and convert('RGB') clips at 255, so the "
               "picture turns almost white. We reduce to the high byte instead (what Pillow does "
               "for 16-bit RGB); the golden is Pillow's resize of that high-byte image.")

    photo = photoish(320, 240)
    add("photo_320x240_q90.jpg", save_array(photo, quality=90), "baseline JPEG, 4:2:0")
    add("photo_444_progressive.jpg", save_array(photo, quality=85, subsampling=0, progressive=True),
        "progressive JPEG, 4:4:4")
    add("photo_422_500x300.jpg", save_array(photoish(500, 300), quality=80, subsampling=1),
        "JPEG 4:2:2, shrinks on x, enlarges on y")
    add("grey_320x240.jpg", save_array(photo[:, :, 1], "L", quality=90), "greyscale JPEG")
    cmyk = Image.fromarray(photo).convert("CMYK")
    cmyk_arr = np.array(cmyk)
    cmyk_arr[:, :, 3] = np.tile(np.linspace(0, 120, 320).astype(np.uint8), (240, 1))  # some black ink
    add("cmyk_320x240.jpg", save_image(Image.fromarray(cmyk_arr, "CMYK"), quality=92),
        "CMYK JPEG (Adobe, inverted): PIL's naive CMYK to RGB formula")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 CW to display; moondream1 never applies it
    add("orient6_320x240.jpg", save_array(photo, quality=90, exif=exif.tobytes()),
        "EXIF orientation 6, not applied")
    add("icc_swapped_320x240.jpg", save_array(photo, quality=90, icc_profile=swapped_primaries_profile()),
        "embedded non-sRGB ICC profile, ignored as PIL ignores it")

    add("lossy_320x240.webp", save_array(photo, quality=80, method=4), "lossy WebP")
    add("alpha_lossless_320x240.webp", save_array(rgba, "RGBA", lossless=True, exact=True),
        "lossless WebP with alpha, RGB under alpha 0 preserved (exact=True)")
    add("deflate_160x120.tiff", save_array(gradient_checker(160, 120), compression="tiff_adobe_deflate"),
        "RGB TIFF, deflate")
    add("cmyk_160x120.tiff", save_image(Image.fromarray(photoish(160, 120)).convert("CMYK"), compression="tiff_lzw"),
        "CMYK TIFF (not inverted), LZW: PIL's naive CMYK to RGB formula")
    webp_frames = [Image.fromarray(gradient_checker(120, 90, cell=10)), Image.fromarray(255 - gradient_checker(120, 90, cell=10))]
    add("animated_120x90.webp", lambda p: webp_frames[0].save(p, save_all=True, append_images=webp_frames[1:], duration=100,
                                                              lossless=True), "animated lossless WebP: the first frame")

    gif_pal = Image.fromarray(gradient_checker(120, 90, cell=10)).quantize(colors=32, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    add("opaque_120x90.gif", save_image(gif_pal), "GIF without transparency")
    frame2 = Image.fromarray(255 - gradient_checker(120, 90, cell=10)).quantize(palette=gif_pal, dither=Image.Dither.NONE)
    add("animated_120x90.gif", lambda p: gif_pal.save(p, save_all=True, append_images=[frame2], duration=100, loop=0),
        "animated GIF: the first frame is used, as PIL's convert() does")
    add("transparent_black_120x90.gif", lambda p: save_gif_transparent(p, (0, 0, 0)),
        "GIF with a transparent index whose palette colour is black: matches, because the decoder's "
        "colour under transparent pixels is black too")
    add("transparent_white_120x90.gif", lambda p: save_gif_transparent(p, (255, 255, 255)),
        "GIF with a transparent index whose palette colour is white", exact=False,
        reason="Pillow keeps the palette colour of the transparent index (white here); libvips "
               "(sharp) decodes transparent GIF pixels to RGBA 0,0,0,0 and never exposes that "
               "palette entry, so only the opaque pixels can match. Tested at full size instead.")


def write_png16_rgb(path, arr16):
    """Pillow cannot write 16-bit RGB PNGs, so write the PNG by hand (zlib, filter 0)."""
    import zlib
    h, w, _ = arr16.shape
    rows = b"".join(b"\x00" + arr16[y].astype(">u2").tobytes() for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def high_byte_reference(path):
    with Image.open(path) as im:
        arr = np.array(im).astype(np.uint32)
    return Image.fromarray((arr >> 8).astype(np.uint8), "L").convert("RGB").resize(TARGET, Image.Resampling.BICUBIC)


def save_gif_transparent(path, colour):
    """A GIF whose index 0 is transparent and has the given colour in the palette."""
    pic = gradient_checker(120, 90, cell=10)
    img = Image.fromarray(pic).quantize(colors=31, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    idx = np.array(img).astype(np.uint8) + 1  # shift to free index 0
    idx[20:50, 30:80] = 0
    palette = list(colour) + img.getpalette()[:31 * 3]
    out = Image.fromarray(idx, "P")
    out.putpalette(palette + [0] * (768 - len(palette)))
    out.save(path, transparency=0)


def full_size_decode(name):
    """PIL's convert('RGB') at full size, for fixtures that can only match in part."""
    with Image.open(os.path.join(OUT, name)) as im:
        rgb = im.convert("RGB").tobytes()
        size = im.size
        mask = None
        if im.mode == "P" and "transparency" in im.info:
            mask = (np.array(im) == im.info["transparency"]).astype(np.uint8).tobytes()
    golden_name = write_golden(rgb, *size)
    entry = next(f for f in fixtures if f["file"] == name)
    entry["fullSize"] = {"golden": golden_name, "sha256": sha256(rgb)}
    if mask is not None:
        write_gzip(name + ".transparent.gz", mask)
        entry["fullSize"]["transparentMask"] = name + ".transparent.gz"


def make_resize_cases():
    """Pillow's resize of PIL-decoded RGB to odd sizes: tests the resampler alone."""
    with Image.open(os.path.join(OUT, "smooth_600x450.png")) as im:
        src = im.convert("RGB")
    with Image.open(os.path.join(OUT, "grad_checker_64x48.png")) as im:
        small = im.convert("RGB")
    for source_name, img, (w, h) in [
        ("smooth_600x450.png", src, (17, 5)), ("smooth_600x450.png", src, (1, 1)),
        ("smooth_600x450.png", src, (601, 449)), ("smooth_600x450.png", src, (3, 450)),
        ("smooth_600x450.png", src, (600, 7)), ("grad_checker_64x48.png", small, (1000, 3)),
        ("grad_checker_64x48.png", small, (65, 47)), ("grad_checker_64x48.png", small, (1, 300)),
    ]:
        out = img.resize((w, h), Image.Resampling.BICUBIC).tobytes()
        golden = write_golden(out, w, h)
        resize_cases.append({"source": source_name, "width": w, "height": h, "golden": golden, "sha256": sha256(out)})


def normalisation_lut():
    """moondream1's ToDtype(scale=True) then Normalize(0.5, 0.5), for each uint8 value.
    torch (if installed) is the oracle; numpy float32 must agree with it."""
    x = np.arange(256, dtype=np.uint8)
    # ToDtype multiplies by the scalar 1/255, which torch rounds to float32 first.
    f = x.astype(np.float32) * np.float32(1.0 / 255)
    numpy_lut = (f - np.float32(0.5)) / np.float32(0.5)
    assert numpy_lut.dtype == np.float32
    out = {"formula": "fround(fround(fround(x * fround(1/255)) - 0.5) / 0.5)", "numpy": np.__version__,
           "values": [float(v) for v in numpy_lut]}
    # Plain x/255 in float32 rounds differently for some x: recorded to show why the LUT matters.
    divided = (x.astype(np.float32) / np.float32(255) - np.float32(0.5)) / np.float32(0.5)
    out["valuesDifferingFromDivision"] = int(np.sum(divided != numpy_lut))
    try:
        import torch
        t = torch.arange(256, dtype=torch.int64).to(torch.uint8).to(torch.float32).mul_(1.0 / 255)
        mean = torch.tensor([0.5], dtype=torch.float32)
        std = torch.tensor([0.5], dtype=torch.float32)
        torch_lut = t.sub_(mean).div_(std).numpy()
        mismatches = int(np.sum(torch_lut != numpy_lut))
        assert mismatches == 0, f"numpy and torch disagree on {mismatches} values"
        out["torch"] = torch.__version__
    except ImportError:
        out["torch"] = None
    with open(os.path.join(OUT, "normalisation-lut.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    for name in os.listdir(OUT):
        os.remove(os.path.join(OUT, name))
    make_fixtures()
    full_size_decode("transparent_white_120x90.gif")
    full_size_decode("transparent_black_120x90.gif")
    make_resize_cases()
    normalisation_lut()
    manifest = {"generator": "scripts/golden/make-image-fixtures.py", "pillow": PIL.__version__,
                "numpy": np.__version__, "target": list(TARGET),
                "goldenEncoding": "gzip of per-channel residuals x - (left + up - upLeft) mod 256, zero outside",
                "fixtures": fixtures, "resizeCases": resize_cases}
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"{len(fixtures)} fixtures, {len(resize_cases)} resize cases, {total / 1024:.0f} KiB in {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
