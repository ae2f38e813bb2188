import pytest

from shopshot.pipeline.diffusion.registry import (
    CLOTHES,
    CONTROLNET,
    DEPTH,
    INPAINT,
    KLEIN,
    MATTING,
    SAFETY,
    SEGMENTER,
    allowed_models,
    load_registry,
)

# Licences that allow commercial use of the weights (FIELD-NOTES.md, checked on each model card).
COMMERCIAL_LICENCES = {"openrail++", "apache-2.0", "mit"}
# Families whose weights need a separate licence for commercial use. Of FLUX, only FLUX.2 [klein] 4B
# is Apache-2.0: FLUX.1 (dev and its variants), FLUX.2 [dev] and klein 9B are not.
FORBIDDEN = (
    "flux.1",
    "flux.2-dev",
    "klein-9b",
    "klein-base-9b",
    "rmbg",
    "dmd2",
    "sdxl-turbo",
    "idm-vton",
    "ootdiffusion",
    "catvton",
    "openpose",
    "insightface",
    "depth-anything-v2-base",
    "depth-anything-v2-large",
    "instantid",
    "pulid",
    "faceid",
)


def test_every_backend_role_is_in_the_default_set():
    keys = {spec.key for spec in allowed_models(False)}
    assert {INPAINT, CONTROLNET, DEPTH, CLOTHES} <= keys


def test_each_stack_pulls_its_own_models_and_both_the_neural_matte():
    matte = {SEGMENTER, MATTING}
    assert {spec.key for spec in allowed_models(False, stack="sdxl")} == {
        INPAINT,
        CONTROLNET,
        DEPTH,
        CLOTHES,
        SAFETY,
    } | matte
    assert {spec.key for spec in allowed_models(False, stack="klein")} == {KLEIN, CLOTHES, SAFETY} | matte


def test_the_only_flux_entry_is_klein_4b_without_its_single_file_checkpoint():
    [klein] = [spec for spec in load_registry() if "flux" in spec.repo_id.lower()]
    assert klein.repo_id == "black-forest-labs/FLUX.2-klein-4B" and klein.licence == "apache-2.0" and klein.commercial
    assert all(
        "/" in pattern for pattern in klein.allow_patterns if pattern != "model_index.json"
    )  # not the root's 7.75 GB file


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
    path.write_text(
        '[[model]]\nkey = "x"\nrepo_id = "o/x"\nrevision = "main"\nlicence = "mit"\n'
        'licence_url = "u"\ntasks = []\nallow_patterns = []\n'
    )
    with pytest.raises(TypeError):
        load_registry(path)
