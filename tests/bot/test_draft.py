"""The conversation's draft: read from the FSM data an older bot stored, written back as the same JSON, turned into the job."""

import ast
import json
from pathlib import Path

import pytest
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import StorageKey
from aiogram.fsm.storage.memory import MemoryStorage

import shopshot.bot
from shopshot.bot.draft import Draft
from shopshot.pipeline.tasks import Task
from shopshot.queue.spec import JobSpec

# What the bot kept for a seller at the summary before the draft: intake's keys, then the steps' choices.
STORED = {
    "image_key": "k1",
    "width": 1200,
    "height": 900,
    "task": "backdrop",
    "backend": "studio",
    "photo_name": "mug",
    "candidates": [[0.1, 0.1, 0.5, 0.9], [0.5, 0.1, 0.9, 0.9]],
    "since_message_id": 41,
    "looks": [],
    "chosen": [2],
    "keep": [[0.5, 0.1, 0.9, 0.9]],
    "preset": "wall",
    "ratio": "4:5",
    "variants": 3,
    "job_id": "j1",
    "changing": False,
}


def test_data_an_older_bot_stored_loads_with_every_choice():
    draft = Draft.from_data(STORED)
    assert (draft.image_key, draft.width, draft.height, draft.photo_name, draft.backend) == (
        "k1",
        1200,
        900,
        "mug",
        "studio",
    )
    assert draft.task is Task.BACKDROP and draft.chosen == [2] and draft.keep == [[0.5, 0.1, 0.9, 0.9]]
    assert (draft.preset, draft.ratio, draft.variants, draft.job_id, draft.since_message_id) == (
        "wall",
        "4:5",
        3,
        "j1",
        41,
    )


def test_missing_keys_get_the_defaults_the_flows_used_and_unknown_keys_are_dropped():
    draft = Draft.from_data({"image_key": "k1", "width": 10, "height": 20, "a_key_no_bot_knows": 1})
    assert draft == Draft(image_key="k1", width=10, height=20)
    assert (draft.task, draft.model, draft.prompt_extra, draft.photo_name, draft.keep, draft.chosen) == (
        Task.BACKDROP,
        None,
        "",
        "photo",
        [],
        [],
    )
    assert (draft.pack, draft.seed, draft.batch, draft.changing, draft.job_id) == (None, None, None, False, None)
    assert "a_key_no_bot_knows" not in draft.to_data()


def test_an_unknown_task_fails_on_loading():
    with pytest.raises(ValueError):
        Draft.from_data({"task": "painting"})


def test_a_draft_goes_through_json_and_back_under_the_same_keys():
    draft = Draft.from_data(
        {
            **STORED,
            "task": "model",
            "model": "ana",
            "seed": 60,
            "batch": {"groups": ["g"], "at": 1.0, "photos": [], "refused": []},
        }
    )
    stored = json.loads(json.dumps(draft.to_data()))  # as aiogram's RedisStorage keeps it
    assert stored["task"] == "model" and stored["keep"] == STORED["keep"] and set(STORED) <= set(stored)
    assert Draft.from_data(stored) == draft


def test_a_choice_not_made_is_left_out_of_the_stored_data():
    # As the flows stored it before the draft: a batch's conversation has no image_key until a photo of it can be used.
    stored = Draft(task=Task.BACKDROP, backend="studio", since_message_id=7).to_data()
    assert not {"image_key", "preset", "model", "pack", "seed", "job_id", "batch"} & set(stored)
    assert Draft.from_data(stored) == Draft(backend="studio", since_message_id=7)


def test_the_job_is_the_one_the_summary_describes():
    spec = Draft.from_data({**STORED, "prompt_extra": "on oak"}).to_spec(5, 6, 70, "studio", "de", new_seed=120)
    assert spec == JobSpec(
        chat_id=5,
        user_id=6,
        status_message_id=70,
        image_key="k1",
        preset="wall",
        ratio="4:5",
        variants=3,
        seed=120,
        language="de",
        backend="studio",
        task=Task.BACKDROP,
        prompt_extra="on oak",
        photo_name="mug",
        keep=((0.5, 0.1, 0.9, 0.9),),
    )


def test_a_saved_looks_seed_and_a_packs_shots_make_the_job():
    spec = Draft.from_data({**STORED, "seed": 60, "pack": "amazon"}).to_spec(5, 6, 70, "studio", "en", new_seed=120)
    assert (
        spec.seed == 60 and spec.pack == "amazon" and spec.variants == 3
    )  # the pack's three shots, whatever the count chosen
    assert Draft.from_data({**STORED, "variants": 1}).images == 1


def test_a_batch_counts_its_photos_and_a_photo_alone_counts_one():
    assert Draft().photo_count == 1
    assert (
        Draft(batch={"groups": [], "at": 1.0, "photos": [{"key": "a"}, {"key": "b"}], "refused": []}).photo_count == 2
    )


async def test_update_changes_the_named_choices_and_keeps_the_rest():
    state = FSMContext(MemoryStorage(), StorageKey(bot_id=1, chat_id=2, user_id=2))
    await state.set_data(STORED)
    draft = await Draft.update(state, preset="white", changing=True)
    assert draft == Draft.from_data({**STORED, "preset": "white", "changing": True}) == await Draft.load(state)
    with pytest.raises(TypeError):
        await Draft.update(state, backdrop="white")  # a key the draft does not have


def test_only_the_draft_reads_or_writes_the_conversation_data():
    # One place knows the keys and their defaults; a handler reading the dict again would repeat them.
    bot = Path(shopshot.bot.__file__).parent
    calls = {
        (str(path.relative_to(bot)), node.func.attr)
        for path in bot.rglob("*.py")
        if path.name != "draft.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in {"get_data", "update_data", "set_data"}
    }
    assert calls == set()
