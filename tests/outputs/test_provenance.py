"""C2PA content provenance, end to end with the real C2PA SDK: the tests make their own ES256
certificate chains, sign real JPEG, PNG, MP4 and PDF files with the SDK's Builder, and check the
verdicts ``provenance verify`` gives (valid / invalid / untrusted-signer / no-manifest), the
ingredient chain, and that articles referencing the media carry the verdict in the store."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import pytest
from click.testing import CliRunner

from pki_support import issue, make_ca

c2pa = pytest.importorskip("c2pa", reason="c2pa-python (the C2PA SDK binding, extra "
                           "'provenance') is not installed")

from cryptography.x509.oid import ExtendedKeyUsageOID  # noqa: E402

from hybridwatch.cli import cli  # noqa: E402
from hybridwatch.outputs.provenance import load_trust_anchors, verify_media  # noqa: E402

CAPTURE = "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"
EMAIL = [ExtendedKeyUsageOID.EMAIL_PROTECTION]  # an EKU the C2PA trust model accepts


def jpeg(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (48, 32), colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 16), (0, 90, 200)).save(out, "PNG")
    return out.getvalue()


def mp4() -> bytes:
    """A minimal ISO BMFF file: ftyp, moov (mvhd), mdat."""
    def box(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", 8 + len(payload)) + kind + payload

    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = box(b"mvhd", bytes(4) + struct.pack(">IIII", 0, 0, 1000, 0) +
               struct.pack(">IH", 0x10000, 0x100) + bytes(10) + matrix + bytes(24) +
               struct.pack(">I", 2))
    return (box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41") +
            box(b"moov", mvhd) + box(b"mdat", bytes(range(64))))


def pdf() -> bytes:
    """A one-page PDF with a correct cross-reference table."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
               b"<< /Length 21 >>\nstream\n0 0 1 rg 20 20 50 50 re f\nendstream"]
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A newsroom CA and its signer; a second, unrelated CA; the trust folder holds the first."""
    folder = tmp_path_factory.mktemp("pki")
    newsroom = make_ca("Newsroom Root CA")
    camera = issue(newsroom, "Newsroom Camera", eku=EMAIL)
    editor = issue(newsroom, "Newsroom Photo Desk", eku=EMAIL)
    stranger_ca = make_ca("Stranger Root CA")
    stranger = issue(stranger_ca, "Stranger Signer", eku=EMAIL)
    (folder / "trust").mkdir()
    (folder / "trust" / "newsroom.pem").write_bytes(newsroom.cert_pem())
    (folder / "other").mkdir()
    (folder / "other" / "stranger.pem").write_bytes(stranger_ca.cert_pem())
    return {"camera": camera, "editor": editor, "stranger": stranger, "ca": newsroom,
            "trust": folder / "trust", "other": folder / "other"}


def signer(issued, ca):
    info = c2pa.C2paSignerInfo(alg=b"es256", sign_cert=issued.cert_pem() + ca.cert_pem(),
                               private_key=issued.key_pem(), ta_url=None)
    return c2pa.Signer.from_info(info)


def sign(path: Path, data: bytes, fmt: str, who, ca, *, generator: str, actions: list,
         ingredient: Path | None = None) -> Path:
    manifest = {"claim_generator_info": [{"name": generator, "version": "1.0"}],
                "title": path.name,
                "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}}]}
    builder = c2pa.Builder(json.dumps(manifest))
    if ingredient is not None:
        with ingredient.open("rb") as parent:
            builder.add_ingredient(json.dumps({"title": ingredient.name, "relationship":
                                               "parentOf", "label": "parent"}),
                                   ingredient.suffix.lstrip("."), parent)
    with io.BytesIO(data) as source, path.open("w+b") as dest:
        builder.sign(signer(who, ca), fmt, source, dest)
    return path


@pytest.fixture(scope="module")
def media(pki, tmp_path_factory):
    folder = tmp_path_factory.mktemp("media")
    created = [{"action": "c2pa.created", "digitalSourceType": CAPTURE}]
    photo = sign(folder / "photo.jpg", jpeg((200, 20, 20)), "jpg", pki["camera"], pki["ca"],
                 generator="NewsCam", actions=created)
    edited = sign(folder / "edited.jpg", jpeg((20, 200, 20)), "jpg", pki["editor"], pki["ca"],
                  generator="PhotoDesk",
                  actions=[{"action": "c2pa.opened", "parameters": {"ingredientIds": ["parent"]}},
                           {"action": "c2pa.color_adjustments"}], ingredient=photo)
    tampered = folder / "tampered.jpg"
    data = bytearray(photo.read_bytes())
    data[-40] ^= 0xFF  # inside the JPEG entropy-coded image data, after the manifest
    tampered.write_bytes(bytes(data))
    plain = folder / "plain.png"
    plain.write_bytes(png())
    return {"photo": photo, "edited": edited, "tampered": tampered, "plain": plain,
            "video": sign(folder / "clip.mp4", mp4(), "mp4", pki["camera"], pki["ca"],
                          generator="NewsCam", actions=created),
            "pdf": sign(folder / "leaflet.pdf", pdf(), "pdf", pki["editor"], pki["ca"],
                        generator="PhotoDesk", actions=created),
            "stranger": sign(folder / "stranger.png", png(), "png", pki["stranger"],
                             pki["stranger"], generator="Unknown", actions=created),
            "folder": folder}


def test_four_states(pki, media):
    anchors = load_trust_anchors(pki["trust"])
    photo = verify_media(media["photo"], anchors)
    assert photo.state == "valid" and photo.signer["common_name"] == "Newsroom Camera"
    assert photo.claim_generator == "NewsCam 1.0"
    assert [a["action"] for a in photo.actions] == ["c2pa.created"]
    assert photo.actions[0]["digital_source_type"] == CAPTURE
    tampered = verify_media(media["tampered"], anchors)
    assert tampered.state == "invalid"
    assert any(f["code"] == "assertion.dataHash.mismatch" for f in tampered.failures)
    assert verify_media(media["plain"], anchors).state == "no-manifest"
    assert verify_media(media["stranger"], anchors).state == "untrusted-signer"
    # the same valid file is untrusted under other anchors, and under none
    assert verify_media(media["photo"], load_trust_anchors(pki["other"])).state == \
        "untrusted-signer"
    none = verify_media(media["photo"], "")
    assert none.state == "untrusted-signer" and "no trust anchors" in none.notes[0]


def test_video_and_pdf(pki, media):
    anchors = load_trust_anchors(pki["trust"])
    for name, signer_cn in (("video", "Newsroom Camera"), ("pdf", "Newsroom Photo Desk")):
        verdict = verify_media(media[name], anchors)
        assert verdict.state == "valid" and verdict.signer["common_name"] == signer_cn
    data = bytearray(media["video"].read_bytes())
    at = data.rindex(bytes(range(64)))  # the mdat payload the BMFF hash covers
    data[at + 10] ^= 0xFF
    broken = media["folder"] / "clip-edited.mp4"
    broken.write_bytes(bytes(data))
    assert verify_media(broken, anchors).state == "invalid"


def test_ingredient_chain(pki, media):
    verdict = verify_media(media["edited"], load_trust_anchors(pki["trust"]))
    assert verdict.state == "valid" and verdict.claim_generator == "PhotoDesk 1.0"
    assert [a["action"] for a in verdict.actions] == ["c2pa.opened", "c2pa.color_adjustments"]
    [parent] = verdict.ingredients
    assert parent["title"] == "photo.jpg" and parent["relationship"] == "parentOf"
    assert parent["signer"]["common_name"] == "Newsroom Camera"
    assert parent["claim_generator"] == "NewsCam 1.0" and parent["state"] == "valid"
    assert [a["action"] for a in parent["actions"]] == ["c2pa.created"]
    untrusted = verify_media(media["edited"], load_trust_anchors(pki["other"]))
    assert untrusted.ingredients[0]["state"] == "untrusted-signer"


def test_cli_records_verdicts_that_articles_carry(pki, media, tmp_path):
    from hybridwatch.adapters import ReadOptions
    from hybridwatch.store import EventStore
    from hybridwatch.workflows.ingest import ingest_file

    db = tmp_path / "store.duckdb"
    articles = tmp_path / "articles.jsonl"
    articles.write_text("\n".join(json.dumps(a) for a in [
        {"id": "a1", "outlet": "RT", "published_at": "2026-12-01T09:00:00Z", "title": "Photo",
         "url": "https://news.example/a1", "image": "https://cdn.example/photo.jpg"},
        {"id": "a2", "outlet": "TASS", "published_at": "2026-12-01T10:00:00Z",
         "title": "Edited", "url": "https://cdn.example/tampered.jpg"},
        {"id": "a3", "outlet": "Xinhua", "published_at": "2026-12-01T11:00:00Z",
         "title": "No media", "url": "https://news.example/a3"}]) + "\n")
    events = tmp_path / "events.csv"  # an event whose source is the clip, one showing the photo
    events.write_text("ref,date,title,link,image\n"
                      "E1,2026-12-01,Clip posted,https://cdn.example/clip.mp4,\n"
                      "E2,2026-12-02,Post,https://social.example/p/2,"
                      "https://cdn.example/photo.jpg\n")
    mapping = tmp_path / "events.toml"
    mapping.write_text('[source]\nname = "media_log"\nformat = "csv"\n[fields]\n'
                       'source_record_id = "ref"\noccurred_at = "date"\n'
                       'domain = { const = "information" }\ntitle = "title"\n'
                       'source_url = "link"\n')
    with EventStore(db) as store:
        ingest_file(store, articles, format="articles-jsonl")
        ingest_file(store, events, format="mapped", options=ReadOptions(mapping_path=mapping))
    result = CliRunner().invoke(cli, [
        "provenance", "verify", str(media["photo"]), str(media["tampered"]), str(media["video"]),
        "--trust", str(pki["trust"]), "--url", "https://cdn.example/photo.jpg", "--url",
        "https://cdn.example/tampered.jpg", "--url", "https://cdn.example/clip.mp4",
        "--record", "--db", str(db), "--json"],
        env={"HYBRIDWATCH_C2PA_TRUST": None}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert [f["state"] for f in out["files"]] == ["valid", "invalid", "valid"]
    result = CliRunner().invoke(cli, ["provenance", "media", "--db", str(db), "--json"],
                                catch_exceptions=False)
    refs = json.loads(result.stdout)["references"]
    by_title = {(r["kind"], r["title"]): (r["state"], r["media_url"]) for r in refs}
    assert by_title == {
        ("article", "Photo"): ("valid", "https://cdn.example/photo.jpg"),
        ("article", "Edited"): ("invalid", "https://cdn.example/tampered.jpg"),
        ("event", "Clip posted"): ("valid", "https://cdn.example/clip.mp4"),
        ("event", "Post"): ("valid", "https://cdn.example/photo.jpg")}
    # --strict turns a non-valid file into exit 5; an unreadable format is exit 3
    result = CliRunner().invoke(cli, ["provenance", "verify", str(media["plain"]), "--strict"])
    assert result.exit_code == 5
    (tmp_path / "notes.xyz").write_text("x")
    result = CliRunner().invoke(cli, ["provenance", "verify", str(tmp_path / "notes.xyz")])
    assert result.exit_code == 3 and "does not read .xyz" in result.stderr


def test_remote_manifest_is_not_fetched(pki, tmp_path):
    manifest = {"claim_generator_info": [{"name": "Remote", "version": "1"}],
                "assertions": [{"label": "c2pa.actions", "data": {"actions": [
                    {"action": "c2pa.created", "digitalSourceType": CAPTURE}]}}]}
    builder = c2pa.Builder(json.dumps(manifest))
    builder.set_no_embed()
    builder.set_remote_url("http://127.0.0.1:9/manifest.c2pa")  # loopback, closed port
    out = tmp_path / "remote.jpg"
    with io.BytesIO(jpeg((1, 2, 3))) as source, out.open("w+b") as dest:
        builder.sign(signer(pki["camera"], pki["ca"]), "jpg", source, dest)
    verdict = verify_media(out, load_trust_anchors(pki["trust"]))
    assert verdict.state == "no-manifest"
    assert "not fetched" in " ".join(verdict.notes)
