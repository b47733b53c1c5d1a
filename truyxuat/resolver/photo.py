"""A photo of a stamp → the Digital Link in its QR code (zxing-cpp on a Pillow image)."""

from __future__ import annotations

import io
from urllib.parse import urlsplit

from truyxuat.errors import N_, DomainError, invalid
from truyxuat.resolver.linkset import ItemKey, parse_path
from truyxuat.stamps import codes

# Phone photos are large; zxing finds a QR code as well on a 1600-pixel image, much faster.
MAX_SIDE = 1600


def key_from_photo(data: bytes, limit: int) -> ItemKey:
    """Decodes the first GS1 Digital Link found in the photo."""
    import zxingcpp
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise invalid("photo", N_("Choose a photo of the stamp"))
    if len(data) > limit:
        raise invalid(
            "photo", N_("The file is larger than the limit of {limit} bytes"), limit=limit
        )
    try:
        image = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("L")
    except (UnidentifiedImageError, OSError) as exc:
        raise invalid("photo", N_("The file is not a photo we can read")) from exc
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    results = zxingcpp.read_barcodes(image)
    if not results:
        raise invalid("photo", N_("No QR code or barcode was found in the photo"))
    for result in results:
        text = result.text.strip()
        if text.startswith(("http://", "https://")):
            path = urlsplit(text).path
            # A resolver may sit under a path prefix: the key starts at its /01/ segment.
            start = path.find("/01/")
            try:
                return parse_path(path[start:] if start >= 0 else path)
            except DomainError:  # try the next code in the photo
                continue
        try:
            link = codes.parse_digital_link(text)
        except DomainError:  # a code that is no Digital Link
            continue
        return ItemKey(link.gtin, link.lot, link.serial)
    raise invalid("photo", N_("The code in the photo is not a GS1 Digital Link of a product"))
