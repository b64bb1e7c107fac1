#!/usr/bin/env python3
"""Draws fixtures/edocument/document.png: the image the mock returns as an E-Document result's
`document_image` (base64). A made-up identity card marked as a test document, with the face of
fixtures/photos/face.jpg; no real person's data. Run once when the design changes (needs Pillow:
`pip install pillow`); the PNG is committed, so neither the build nor CI needs this script."""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
FONT = ROOT / "fixtures/fonts/DejaVuSans-LatCyr.ttf"


def main() -> None:
    card = Image.new("RGB", (428, 270), "#dfeef7")
    draw = ImageDraw.Draw(card)
    big, small = ImageFont.truetype(str(FONT), 17), ImageFont.truetype(str(FONT), 12)
    draw.rectangle([0, 0, 428, 44], fill="#0b6bcb")
    draw.text((14, 11), "ҚАЗАҚСТАН РЕСПУБЛИКАСЫ · KAZAKHSTAN", font=big, fill="white")
    face = Image.open(ROOT / "fixtures/photos/face.jpg").convert("RGB").resize((110, 140))
    card.paste(face, (18, 62))
    lines = ["ЖЕКЕ КУӘЛІК / IDENTITY CARD", "Тегі / Surname: ТЕСТОВ", "Аты / Name: ТЕСТ", "ЖСН / IIN: 000000000000",
             "№ 000000000"]
    for i, line in enumerate(lines):
        draw.text((146, 66 + i * 24), line, font=small, fill="#1b2430")
    draw.rectangle([0, 222, 428, 270], fill="#b42318")
    draw.text((14, 239), "TEST DOCUMENT · NOT VALID · biometric-kz-mock", font=small, fill="white")
    out = ROOT / "fixtures/edocument/document.png"
    card.quantize(colors=64).save(out, optimize=True)
    print(out, out.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
