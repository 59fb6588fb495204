"""The OpenRosa XML documents: form list, manifest and the answer to a submission."""

from __future__ import annotations

from xml.etree.ElementTree import Element, SubElement, tostring

from flask import Response

from .xlsform import PublishedForm

__all__ = ["form_list", "manifest", "openrosa_response", "xml_response"]

XFORMS_LIST = "http://openrosa.org/xforms/xformsList"
MANIFEST = "http://openrosa.org/xforms/xformsManifest"
RESPONSE = "http://openrosa.org/http/response"


def xml_response(root: Element | bytes, status: int = 200) -> Response:
    """An XML answer, UTF-8, with its declaration."""
    body = root if isinstance(root, bytes) else tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(body, status=status, content_type="text/xml; charset=utf-8")


def form_list(forms: list[tuple[PublishedForm, str, str]]) -> Element:
    """``<xforms>``: one entry per (form, download URL, manifest URL), hashes of the exact bytes."""
    root = Element("xforms", xmlns=XFORMS_LIST)
    for form, download, manifest_url in forms:
        entry = SubElement(root, "xform")
        for tag, text in (("formID", form.form_id), ("name", form.title), ("version", form.version),
                          ("hash", form.md5), ("downloadUrl", download), ("manifestUrl", manifest_url)):
            SubElement(entry, tag).text = text
    return root


def manifest() -> Element:
    """The household form uses no media files: an empty manifest."""
    return Element("manifest", xmlns=MANIFEST)


def openrosa_response(message: str, nature: str = "") -> Element:
    """``<OpenRosaResponse>`` whose message Collect shows to the officer."""
    root = Element("OpenRosaResponse", xmlns=RESPONSE)
    node = SubElement(root, "message")
    if nature:
        node.set("nature", nature)
    node.text = message
    return root
