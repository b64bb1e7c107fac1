#!/usr/bin/env python3
"""Draws the sample photos in fixtures/photos/ (a face-like test pattern) with Pillow.

Run from the repository root: `pip install pillow && python3 scripts/make-photos.py`.
The outputs are committed; this script only documents how they were made.
"""
from PIL import Image, ImageDraw

def face(size=(240, 300)):
    w, h = size
    img = Image.new("RGB", size, (214, 226, 240))
    d = ImageDraw.Draw(img)
    d.rectangle([0, int(h * 0.82), w, h], fill=(60, 90, 140))                 # shoulders
    d.ellipse([w * 0.22, h * 0.12, w * 0.78, h * 0.78], fill=(236, 196, 160))  # head
    d.chord([w * 0.20, h * 0.06, w * 0.80, h * 0.50], 180, 360, fill=(50, 35, 25))  # hair
    for x in (0.38, 0.62):                                                      # eyes
        d.ellipse([w * x - 12, h * 0.40 - 7, w * x + 12, h * 0.40 + 7], fill="white")
        d.ellipse([w * x - 5, h * 0.40 - 5, w * x + 5, h * 0.40 + 5], fill=(40, 60, 90))
    d.line([w * 0.5, h * 0.44, w * 0.47, h * 0.55, w * 0.52, h * 0.56], fill=(180, 130, 100), width=3)
    d.arc([w * 0.38, h * 0.55, w * 0.62, h * 0.68], 20, 160, fill=(170, 60, 60), width=4)  # mouth
    d.text((6, 6), "TEST", fill=(120, 120, 120))
    return img

img = face()
img.save("fixtures/photos/face.jpg", quality=80)
img.save("fixtures/photos/face.png", optimize=True)
