"""Shared fixtures. Test media is made here, from images that installed wheels ship."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    import skimage.data

    return skimage.data.astronaut()


@pytest.fixture(scope="session")
def hopper() -> np.ndarray:
    import matplotlib.cbook as cbook
    from PIL import Image

    return np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).convert("RGB"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def demo_media(tmp_path_factory) -> dict[str, Path]:
    """The demo's sample media (made from wheel-shipped images), built once per session."""
    from facetrust.demo import build_samples

    out = tmp_path_factory.mktemp("demo")
    paths = build_samples(out)
    return {p.name: p for p in paths}


@pytest.fixture(scope="session")
def bad_media(tmp_path_factory, demo_media) -> dict[str, Path]:
    """One file per kind of bad input, each made here."""
    import av

    d = tmp_path_factory.mktemp("bad")
    good_jpg = demo_media["grace_hopper.jpg"].read_bytes()
    video = demo_media["hopper_half_forged.mp4"].read_bytes()
    files = {
        "empty.jpg": b"",
        "text.jpg": b"just some text, not an image\n" * 10,
        "truncated.jpg": good_jpg[: len(good_jpg) // 3],
        "truncated.mp4": video[: len(video) // 5],
        "garbage.mp4": bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8)),
    }
    for name, data in files.items():
        (d / name).write_bytes(data)
    # A 30000x30000 PNG: a valid header declaring 900 MP (the bomb must be refused unread).
    import struct
    import zlib

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    ihdr = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b"")
    (d / "bomb.png").write_bytes(bomb)
    # An audio-only MP4: a container with no video stream.
    with av.open(str(d / "audio_only.mp4"), "w") as c:
        s = c.add_stream("aac", rate=16000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 16000
        for _ in range(10):
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return {p.name: p for p in d.iterdir()}


# --- C2PA: a throwaway CA and signing certificate made at test time, and a signer for project-made images.
AI_SOURCE_TYPE = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"


def _c2pa_chain():
    """(certificate chain PEM, private key PEM) for an ES256 signer issued by a fresh CA: an end-entity
    certificate with digitalSignature and emailProtection, as c2pa's certificate profile requires."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "facetrust test CA org")])

    def usage(**on) -> x509.KeyUsage:
        keys = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
        return x509.KeyUsage(**{k: on.get(k, False) for k in keys})

    def cert(subject, issuer, key, issuer_key, *, ca: bool):
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
             .serial_number(x509.random_serial_number())
             .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=7))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
             .add_extension(usage(key_cert_sign=True, crl_sign=True) if ca else usage(digital_signature=True),
                            critical=True)
             .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        if not ca:
            b = (b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
                 .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                                critical=False))
        return b.sign(issuer_key, hashes.SHA256())

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = cert(name("facetrust test CA"), name("facetrust test CA"), ca_key, ca_key, ca=True)
    leaf = cert(name("facetrust test signer"), ca.subject, key, ca_key, ca=False)
    pem = serialization.Encoding.PEM
    chain = leaf.public_bytes(pem) + ca.public_bytes(pem)
    return chain, key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@pytest.fixture(scope="session")
def c2pa_sign():
    """sign(media, path, source_type=AI_SOURCE_TYPE) -> path: ``media`` (RGB pixels, saved as a JPEG,
    or the path of an MP4) written to ``path`` with a signed C2PA manifest whose c2pa.created action
    declares ``source_type``, made by "facetrust-tests 1.0"."""
    c2pa = pytest.importorskip("c2pa", reason="c2pa-python is not installed (the c2pa extra)")
    pytest.importorskip("cryptography")
    import io

    from PIL import Image

    chain, key = _c2pa_chain()

    def sign(media, path: Path, source_type: str = AI_SOURCE_TYPE) -> Path:
        if isinstance(media, Path):
            src, mime = io.BytesIO(media.read_bytes()), "video/mp4"
        else:
            src, mime = io.BytesIO(), "image/jpeg"
            Image.fromarray(media).save(src, "JPEG", quality=92)
            src.seek(0)
        manifest = {
            "claim_generator_info": [{"name": "facetrust-tests", "version": "1.0"}],
            "title": path.name,
            "assertions": [{"label": "c2pa.actions", "data": {"actions": [
                {"action": "c2pa.created", "digitalSourceType": source_type,
                 "softwareAgent": {"name": "TestDiffusion", "version": "2"}}]}}],
        }
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, chain, key, None))
        out = io.BytesIO()
        with c2pa.Builder(manifest) as builder:
            builder.sign(signer, mime, src, out)
        path.write_bytes(out.getvalue())
        return path

    return sign


def tamper(signed: Path, out: Path) -> Path:
    """A copy of ``signed`` with a few bytes of its image data changed (after signing)."""
    data = bytearray(signed.read_bytes())
    end = data.rindex(b"\xff\xd9")  # the JPEG's end-of-image marker; the entropy-coded data precedes it
    changed = 0
    for i in range(end - 400, end - 100, 7):  # bytes that neither are nor make a marker: still a JPEG
        if 0xFF not in (data[i - 1], data[i], data[i] ^ 0x5A):
            data[i] ^= 0x5A
            changed += 1
    assert changed
    out.write_bytes(bytes(data))
    return out


@pytest.fixture(scope="session")
def c2pa_tamper():
    return tamper
