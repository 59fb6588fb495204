"""Reading a submitted XForm instance into the JSON shape the household schema validates.

The XML is parsed with defusedxml: no DTD at all, so no entity expansion and no external
entities. Element names are matched without namespaces (Collect and web engines differ in
whether the instance carries the XForms namespace); anything the form does not have is
refused with its name rather than dropped.
"""

from __future__ import annotations

import uuid
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from werkzeug.datastructures import MultiDict

from ..forms import FormDefinition, from_form_post

__all__ = ["BadInstance", "Instance", "UnknownForm", "UnsafeXml", "read_instance", "record_id"]

META = "meta"


class BadInstance(ValueError):
    """The XML is well-formed but is not an instance of the form (the reason, in Vietnamese)."""


class UnknownForm(LookupError):
    """The instance names a form this server does not (or no longer) publish."""


class UnsafeXml(ValueError):
    """The XML is not well-formed, or uses DTDs or entities, which no form instance needs."""


class Instance:
    """A parsed submission: the form it claims, its instance ID and its answers as the API's JSON."""

    def __init__(self, form_id: str, version: str, instance_id: str, data: dict[str, Any]):
        self.form_id, self.version, self.instance_id, self.data = form_id, version, instance_id, data


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse(xml: bytes) -> Element:
    try:
        return fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise UnsafeXml(f"XML có DTD hoặc thực thể (entity), không được nhận: {type(exc).__name__}") from exc
    except (ParseError, ValueError) as exc:
        raise UnsafeXml(f"XML không hợp lệ: {exc}") from exc


def record_id(instance_id: str) -> str:
    """``uuid:X`` (as Collect writes it) -> the canonical lower-case UUID the API uses as ``id``."""
    text = instance_id.strip()
    if text.lower().startswith("uuid:"):
        text = text[5:]
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise BadInstance(f"instanceID {instance_id!r} không phải dạng uuid:… ") from None


def _answers(form: FormDefinition, root: Element) -> tuple[MultiDict, str]:
    post: MultiDict = MultiDict()
    instance_id = ""
    for child in root:
        name = _local(child.tag)
        if name == META:
            meta = {_local(m.tag): (m.text or "") for m in child}
            if meta.get("deprecatedID"):
                raise BadInstance("Phiếu sửa lại sau khi đã gửi (deprecatedID) không nhận qua Collect; "
                                  "hãy sửa phiếu trên trang web.")
            instance_id = meta.get("instanceID", "")
            continue
        if name not in form.by_name or name == "id" or len(child):
            raise BadInstance(f"Phần tử <{name}> không có trong biểu mẫu {form.name}")
        text = child.text or ""
        if form.field(name)["type"] == "choices":
            for value in text.split():
                post.add(name, value)
        else:
            post[name] = text
    return post, instance_id


def read_instance(form: FormDefinition, xml: bytes) -> Instance:
    """Parse a submission; raises UnsafeXml or BadInstance with a message for the officer."""
    root = _parse(xml)
    form_id = root.get("id", "")
    if form_id != form.name:
        raise UnknownForm(form_id)
    post, instance_id = _answers(form, root)
    if not instance_id:
        raise BadInstance("Thiếu meta/instanceID")
    data = from_form_post(form, post)
    data["id"] = record_id(instance_id)
    return Instance(form_id, root.get("version", ""), instance_id.strip(), data)
