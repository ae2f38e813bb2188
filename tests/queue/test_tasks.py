"""Tasks travel as plain strings and come back as the one vocabulary, so a typo fails where it is read."""

import dataclasses

import pytest

from shopshot.pipeline.tasks import Task
from shopshot.queue.spec import JobSpec

SPEC = JobSpec(
    chat_id=1,
    user_id=1,
    status_message_id=1,
    image_key="k",
    preset="white",
    ratio="1:1",
    variants=1,
    seed=7,
    language="en",
    task=Task.MODEL,
)


def test_a_spec_carries_its_task_as_a_plain_string_and_reads_it_back_as_a_task():
    text = SPEC.to_json()
    assert '"task": "model"' in text
    assert JobSpec.from_json(text).task is Task.MODEL


def test_a_spec_naming_no_task_of_ours_is_refused_when_read():
    bad = SPEC.to_json().replace('"task": "model"', '"task": "modle"')
    with pytest.raises(ValueError, match="modle"):
        JobSpec.from_json(bad)


def test_a_spec_written_before_tasks_existed_is_a_backdrop():
    fields = dataclasses.asdict(SPEC)
    del fields["task"]
    assert JobSpec.from_json(JobSpec(**fields).to_json()).task is Task.BACKDROP
