from pathlib import Path

import pytest

from multitrans.config.registry import RegistryError, default_path, load_registry
from samples import ROOT



def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_default_registry_loads_and_routes_norwegian_sensibly():
    registry = load_registry()
    assert registry.route_names("nb", "nn") == ["apertium", "nllb-200-distilled-600M"]
    assert registry.route_names("nb", "de")[0] == "opus-mt-no-de"
    assert registry.route_names("en", "nn") == ["nllb-200-distilled-600M"]
    assert registry.route_names("en", "it")[0] == "opus-mt-en-ROMANCE"
    assert registry.models["opus-mt-en-ROMANCE"].target_token == ">>{code}<<"
    # every hub model names a revision
    assert all(m.revision for m in registry.models.values() if m.engine != "apertium")


def test_repo_root_registry_is_the_packaged_default():
    assert (ROOT / "models.yaml").read_bytes() == default_path().read_bytes()


def test_yaml_1_1_booleans_stay_language_codes(tmp_path):
    path = write(tmp_path, """
models:
  a: {engine: apertium}
routes:
  - from: no
    to: [nn, NO]
    use: a
""")
    route = load_registry(path).routes[0]
    assert route.sources == {"nb"}
    assert route.targets == {"nn", "nb"}


def test_unknown_language_names_line_and_key(tmp_path):
    path = write(tmp_path, "models:\n  a: {engine: apertium}\nroutes:\n  - from: nb\n    to: [on]\n    use: a\n")
    with pytest.raises(RegistryError, match=r"models\.yaml:5: key 'routes\.to'.*'on'"):
        load_registry(path)


def test_bad_key_names_file_line_and_key(tmp_path):
    path = write(tmp_path, "models:\n  m:\n    engine: marian\n    modle: x/y\nroutes: []\n")
    with pytest.raises(RegistryError, match=r"models\.yaml:4: key 'models\.m\.modle': unknown key"):
        load_registry(path)


def test_unknown_engine_and_missing_model_reference(tmp_path):
    path = write(tmp_path, "models:\n  m: {engine: google}\nroutes: []\n")
    with pytest.raises(RegistryError, match=r":2: key 'models\.m\.engine'.*marian, nllb, apertium"):
        load_registry(path)
    path = write(tmp_path, "models:\n  m: {engine: apertium}\nroutes:\n  - {from: nb, to: nn, use: [x]}\n")
    with pytest.raises(RegistryError, match=r":4: key 'routes\.use': no model named 'x'"):
        load_registry(path)


def test_yaml_syntax_error_names_line(tmp_path):
    path = write(tmp_path, "models:\n  m: {engine: apertium\nroutes: []\n")
    with pytest.raises(RegistryError, match=r"models\.yaml:\d+: YAML syntax error"):
        load_registry(path)


def test_python_tags_are_not_executed(tmp_path):
    marker = tmp_path / "pwned"
    path = write(tmp_path, f"models: !!python/object/apply:os.system ['touch {marker}']\nroutes: []\n")
    with pytest.raises(RegistryError):
        load_registry(path)
    assert not marker.exists()


def test_local_directories_resolve_relative_to_the_file(tmp_path):
    path = write(tmp_path, "models:\n  m: {engine: marian, model: ./tiny}\nroutes:\n  - {from: '*', to: '*', use: m}\n")
    registry = load_registry(path)
    assert registry.models["m"].model == str((tmp_path / "tiny").resolve())
    assert registry.route_names("de", "fr") == ["m"]


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(RegistryError, match="cannot read model registry"):
        load_registry(tmp_path / "nope.yaml")
