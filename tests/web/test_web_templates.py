"""The template environment's fast `record.field` for dicts answers exactly as Jinja2's own."""

from __future__ import annotations

import jinja2
import pytest

from hujjat.entrypoints.web.context import template_env


def test_dict_fields_and_dict_methods_resolve_as_in_jinja() -> None:
    ours, plain = template_env(), jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)
    record = {"title": "<b>x</b>", "items": 3, "place": {"name": "Osh"}, "get": "shadowed"}
    source = "{{ r.title }}|{{ r.place.name }}|{{ r.items() | list | length }}|{{ r.get('title') }}|{{ r['items'] }}"
    assert ours.from_string(source).render(r=record) == plain.from_string(source).render(r=record)
    assert ours.from_string(source).render(r=record) == "&lt;b&gt;x&lt;/b&gt;|Osh|4|&lt;b&gt;x&lt;/b&gt;|3"
    with pytest.raises(jinja2.UndefinedError):
        ours.from_string("{{ r.missing }}").render(r=record)
