"""Reading the few XMP properties Hujjat normalizes (capture dates, GPS) out of an XMP packet.

XMP is RDF/XML embedded in JPEG, HEIC, PNG and others; Pillow hands us the packet bytes. It is
parsed with defusedxml, because the packet comes from untrusted evidence and the standard
library's XML parsers expand entities (billion-laughs). Properties are read from attributes and
simple child elements of every rdf:Description, keyed "prefix:Name" with well-known prefixes.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
PREFIXES = {
    "http://ns.adobe.com/exif/1.0/": "exif",
    "http://ns.adobe.com/xap/1.0/": "xmp",
    "http://ns.adobe.com/photoshop/1.0/": "photoshop",
    "http://ns.adobe.com/tiff/1.0/": "tiff",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://ns.adobe.com/exif/1.0/aux/": "aux",
}

# Capture-time properties in order of preference.
DATE_PROPERTIES = (
    "exif:DateTimeOriginal",
    "photoshop:DateCreated",
    "exif:DateTimeDigitized",
    "xmp:CreateDate",
)


def packet_text(packet: bytes | str) -> str:
    """The packet as text without the trailing padding XMP writers add for in-place edits."""
    text = packet.decode("utf-8", "replace") if isinstance(packet, bytes) else packet
    return text.replace("\x00", "").strip()


def _qualified(tag: str) -> str | None:
    if not tag.startswith("{"):
        return None
    namespace, _, name = tag[1:].partition("}")
    prefix = PREFIXES.get(namespace)
    return f"{prefix}:{name}" if prefix else None


def properties(packet: bytes | str) -> dict[str, str]:
    """Simple-valued properties ("exif:DateTimeOriginal" -> text) of well-known namespaces.

    Raises ValueError when the packet is not well-formed or is hostile XML.
    """
    text = packet_text(packet)
    start = text.find("<x:xmpmeta")
    if start < 0:
        start = text.find("<rdf:RDF")
    end_tag = "</x:xmpmeta>" if text.find("</x:xmpmeta>") >= 0 else "</rdf:RDF>"
    end = text.rfind(end_tag)
    if start < 0 or end < 0:
        raise ValueError("no x:xmpmeta or rdf:RDF element")
    try:
        root = fromstring(text[start : end + len(end_tag)], forbid_dtd=True)
    except (ParseError, DefusedXmlException) as error:
        raise ValueError(f"malformed XMP: {error}") from error
    found: dict[str, str] = {}
    for description in root.iter(f"{{{RDF}}}Description"):
        _collect(description, found)
    return found


def _collect(description: Element, found: dict[str, str]) -> None:
    for attribute, value in description.attrib.items():
        name = _qualified(attribute)
        if name:
            found.setdefault(name, value.strip())
    for child in description:
        name = _qualified(child.tag)
        if name and len(child) == 0 and child.text and child.text.strip():
            found.setdefault(name, child.text.strip())


_XMP_COORDINATE = re.compile(
    r"^\s*(\d{1,3}),(\d{1,2}(?:\.\d+)?)(?:,(\d{1,2}(?:\.\d+)?))?\s*([NSEW])\s*$", re.I
)


def coordinate(text: str) -> Decimal | None:
    """An XMP GPS coordinate ("43,28.0469N" or "43,28,2.814N") as signed decimal degrees."""
    match = _XMP_COORDINATE.match(text)
    if match is None:
        return None
    try:
        degrees, minutes = Decimal(match[1]), Decimal(match[2])
        seconds = Decimal(match[3]) if match[3] else Decimal(0)
    except InvalidOperation:
        return None
    if minutes > 60 or seconds > 60:
        return None
    value = degrees + minutes / 60 + seconds / 3600
    return -value if match[4].upper() in ("S", "W") else value
