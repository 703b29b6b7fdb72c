"""Exports as downloads: a BagIt package of chosen incidents, refused when linked evidence is
above the user's clearance."""

from __future__ import annotations

import io
import zipfile

from tests.web.support import WebArchive, client_for, login


def test_bag_download_and_clearance(fresh_archive: WebArchive) -> None:
    with client_for(fresh_archive) as c:
        csrf = login(c, "edr")
        public = fresh_archive.incidents["public"]
        c.post(f"/incidents/{public}/link", data={"csrf_token": csrf, "target": fresh_archive.items["public"]})
        r = c.post("/exports/bag", data={"csrf_token": csrf, "incidents": public})
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
        names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
        assert "bag/bagit.txt" in names and any(n.startswith("bag/data/") for n in names)
        other = fresh_archive.incidents["internal"]
        c.post(f"/incidents/{other}/link", data={"csrf_token": csrf, "target": fresh_archive.items["restricted"]})
        csrf = login(c, "ed")  # an editor without access to restricted records
        assert c.post("/exports/bag", data={"csrf_token": csrf, "incidents": other}).status_code == 403
        assert c.post("/exports/bag", data={"csrf_token": csrf,
                                            "incidents": fresh_archive.incidents["restricted"]}).status_code == 404
        assert c.post("/exports/bag", data={"csrf_token": csrf, "incidents": public}).status_code == 200
        assert not list(fresh_archive.root.glob("export-*"))  # temporary files are cleaned up
