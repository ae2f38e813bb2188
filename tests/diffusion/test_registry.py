import pytest

from shopshot.pipeline.diffusion.registry import CLOTHES, CONTROLNET, DEPTH, INPAINT, allowed_models, load_registry

# Licences that allow commercial use of the weights (FIELD-NOTES.md, checked on each model card).
COMMERCIAL_LICENCES = {"openrail++", "apache-2.0", "mit"}
# Families whose weights need a separate licence for commercial use.
FORBIDDEN = ("flux", "rmbg", "dmd2", "sdxl-turbo", "idm-vton", "ootdiffusion", "catvton", "openpose", "insightface",
             "depth-anything-v2-base", "depth-anything-v2-large", "instantid", "pulid", "faceid")


def test_every_backend_role_is_in_the_default_set():
    keys = {spec.key for spec in allowed_models(False)}
    assert {INPAINT, CONTROLNET, DEPTH, CLOTHES} <= keys


def test_the_default_set_is_commercially_clean():
    for spec in allowed_models(False):
        assert spec.commercial and spec.licence in COMMERCIAL_LICENCES, spec
        assert spec.licence_url.startswith("https://huggingface.co/") and spec.repo_id in spec.licence_url
        assert not any(name in spec.repo_id.lower() for name in FORBIDDEN), spec.repo_id


def test_every_entry_is_complete():
    for spec in load_registry():
        assert spec.revision and spec.allow_patterns and spec.tasks <= {"backdrop", "model", "mannequin"}
        assert spec.index_file in spec.allow_patterns


def test_noncommercial_entries_need_the_operator(tmp_path):
    path = tmp_path / "models.toml"
    path.write_text("""
[[model]]
key = "clean"
repo_id = "org/clean"
revision = "main"
licence = "mit"
licence_url = "https://huggingface.co/org/clean"
commercial = true
tasks = ["backdrop"]
allow_patterns = ["config.json"]

[[model]]
key = "research"
repo_id = "org/research-only"
revision = "main"
licence = "flux-1-dev-non-commercial-license"
licence_url = "https://huggingface.co/org/research-only"
commercial = false
tasks = ["backdrop"]
allow_patterns = ["config.json"]
""")
    registry = load_registry(path)
    assert [spec.key for spec in allowed_models(False, registry)] == ["clean"]
    assert [spec.key for spec in allowed_models(True, registry)] == ["clean", "research"]


def test_a_commercial_flag_is_required(tmp_path):
    path = tmp_path / "models.toml"
    path.write_text('[[model]]\nkey = "x"\nrepo_id = "o/x"\nrevision = "main"\nlicence = "mit"\n'
                    'licence_url = "u"\ntasks = []\nallow_patterns = []\n')
    with pytest.raises(TypeError):
        load_registry(path)
