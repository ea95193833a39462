"""The one registry shape (facetrust.registry.Registry) behind detectors, face backends, synth
families, dataset adapters, protocols and backbones: names, aliases, metadata, discovery."""

from __future__ import annotations

import importlib.metadata
import json
import sys
import textwrap

import pytest

from facetrust.registry import Registry


class Missing(KeyError):
    pass


def test_register_aliases_metadata_and_errors():
    reg = Registry("widget", error=Missing, ignore_case=True)

    @reg.register("Round", aliases=("circle",), sides=0)
    def round_widget():
        """A round widget."""

    assert reg.get("ROUND") is round_widget and reg.get(" circle ") is round_widget
    assert reg.resolve("Circle") == "round" and reg.names() == ["round"] and "circle" in reg
    entry = reg.entry("round")
    assert entry.metadata == {"sides": 0} and entry.summary == "A round widget." and entry.module == __name__
    assert reg.aliases() == {"circle": "round"}
    with pytest.raises(Missing, match="unknown widget 'square'; available: round"):
        reg.get("square")
    with pytest.raises(ValueError, match="already registered"):
        reg.add("round", object())
    with pytest.raises(ValueError, match="already belongs"):
        reg.add("oval", object(), aliases=("circle",))
    with pytest.raises(ValueError, match="already belongs"):
        reg.add("circle", object())
    reg.add("round", round_widget)  # the same object again: a no-op (a module imported twice)
    reg.unregister("round")
    assert reg.names() == [] and "circle" not in reg


def test_discovery_imports_every_public_module_of_the_package_once(tmp_path, monkeypatch):
    pkg = tmp_path / "ft_disc_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from facetrust.registry import Registry\nREG = Registry('thing', packages=('ft_disc_pkg',))\n"
    )
    for mod in ("alpha", "beta"):
        (pkg / f"{mod}.py").write_text(f"from . import REG\nREG.add({mod!r}, {mod!r})\n")
    (pkg / "_helper.py").write_text("raise RuntimeError('helpers are not imported by discovery')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        reg = importlib.import_module("ft_disc_pkg").REG
        assert reg.names() == ["alpha", "beta"]
        assert reg.names() == ["alpha", "beta"]  # discovery runs once
    finally:
        for name in [m for m in sys.modules if m.startswith("ft_disc_pkg")]:
            del sys.modules[name]


def test_entry_points_add_objects_and_a_broken_one_only_warns(tmp_path, monkeypatch):
    (tmp_path / "ft_ep_mod.py").write_text(textwrap.dedent('''
        def make():
            """Made by a plug-in."""
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    eps = [
        importlib.metadata.EntryPoint("plugged", "ft_ep_mod:make", "ft.test"),
        importlib.metadata.EntryPoint("broken", "ft_no_such_module:x", "ft.test"),
    ]
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group=None: [e for e in eps if e.group == group])
    reg = Registry("gadget", entry_point_group="ft.test")
    reg.add("builtin", object())
    try:
        with pytest.warns(UserWarning, match="broken"):
            names = reg.names()
        assert names == ["builtin", "plugged"] and reg.entry("plugged").summary == "Made by a plug-in."
    finally:
        sys.modules.pop("ft_ep_mod", None)


def test_every_kind_uses_the_one_registry():
    from facetrust.detectors import DETECTORS
    from facetrust.eval.adapters import DATASET_ADAPTERS
    from facetrust.eval.protocols import PROTOCOL_REGISTRY
    from facetrust.faces import FACE_DETECTORS
    from facetrust.synth import SYNTH_FAMILIES

    kinds = [DETECTORS, FACE_DETECTORS, SYNTH_FAMILIES, DATASET_ADAPTERS, PROTOCOL_REGISTRY]
    assert all(isinstance(r, Registry) for r in kinds)
    assert {"forensicnet", "noise_residual", "spectral"} <= set(DETECTORS.names())
    assert {"yunet", "mediapipe", "dlib"} <= set(FACE_DETECTORS.names())
    assert {"self_blend", "swap", "perturb"} <= set(SYNTH_FAMILIES.names())
    assert DATASET_ADAPTERS.resolve("FF++") == "ffpp" and DATASET_ADAPTERS.resolve("cdf") == "celebdf"
    assert PROTOCOL_REGISTRY.resolve("lofo") == "leave-one-family-out"
    torch = pytest.importorskip("torch")  # noqa: F841
    from facetrust.train.backbones import BACKBONES, backbone_normalisation

    assert {"efficientnet_lite0", "efficientnet_lite1", "mobilenet_v2"} <= set(BACKBONES.names())
    assert backbone_normalisation("mobilenet_v2")[0] == (123.675, 116.28, 103.53)


@pytest.mark.parametrize("command, expected", [
    ("families", {"self_blend", "swap", "region_edit", "morph", "inpaint", "resynth", "perturb", "generated"}),
    ("datasets", {"wild-dev", "folder", "manifest", "ffpp", "celebdf", "dfdc", "wilddeepfake", "df40", "forgerynet"}),
    ("protocols", {"in-domain", "cross-dataset", "leave-one-family-out", "robustness", "fairness", "pad", "mad",
                   "shortcut-audit"}),
])
def test_cli_lists_each_registry_with_metadata(command, expected, capsys):
    from facetrust.cli import main

    assert main([command, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in rows} == expected
    assert all(r.get("summary") or r.get("description") for r in rows)
    assert main([command]) == 0 and "facetrust" in capsys.readouterr().out  # the table view renders too
