"""The OpenAPI 3 schema (valid, complete, no generator warnings) and the docs pages served without a CDN."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_schema_is_valid_openapi_3_and_lists_every_endpoint(anon):
    response = anon.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    validate(schema)
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/songs/",
        "/api/songs/{id}/",
        "/api/recognize/",
        "/api/recognitions/",
        "/api/stats/",
        "/api/tracklists/",
        "/api/tracklists/{tracklist_id}/",
        "/api/plays/",
    }
    assert {"get", "patch", "delete"} <= set(schema["paths"]["/api/songs/{id}/"])
    assert "put" not in schema["paths"]["/api/songs/{id}/"]
    recognize = schema["paths"]["/api/recognize/"]["post"]
    assert set(recognize["requestBody"]["content"]) == {
        "multipart/form-data",
        "application/octet-stream",
        "audio/L16",
    }
    assert {"200", "400", "413", "415", "429"} <= set(recognize["responses"])
    assert {"201", "409", "413", "415"} <= set(schema["paths"]["/api/songs/"]["post"]["responses"])
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_schema_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    quiet = {"stdout": StringIO(), "stderr": StringIO()}
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out), **quiet)
    assert out.read_text().startswith("openapi: 3.0")


def test_docs_page_loads_everything_from_this_server(anon):
    response = anon.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    # Its own start-up script is a separate request, so the page has no inline script (CSP).
    assert assets and all(
        url.startswith(("/static/drf_spectacular_sidecar/", "/api/docs/?")) for url in assets
    ), assets
    assert "<script>" not in html
    script = anon.get(next(url for url in assets if url.startswith("/api/docs/?"))).content.decode()
    assert "/api/schema/" in script
    assert "http://" not in html + script and "https://" not in html + script


def test_sidecar_assets_are_served(client):
    response = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert response.status_code == 200
