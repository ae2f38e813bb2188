import json

import pytest
from rq.job import JobStatus

from shopshot.errors import JobFailed
from shopshot.queue.enqueue import Status
from shopshot.queue.events import EventKind, JobEvent, ResultImage, publish
from shopshot.queue.spec import JobSpec

SPEC = JobSpec(
    chat_id=1,
    user_id=2,
    status_message_id=3,
    image_key="k",
    preset="white",
    ratio="3:4",
    variants=4,
    seed=5,
    language="zh_Hans",
)


def test_spec_round_trips_through_json():
    assert JobSpec.from_json(SPEC.to_json()) == SPEC
    assert SPEC.with_changes(seed=6).seed == 6 and SPEC.seed == 5


def test_the_kept_products_round_trip_as_tuples():
    spec = SPEC.with_changes(keep=((0.5, 0.25, 0.875, 0.75),))
    again = JobSpec.from_json(spec.to_json())
    assert again == spec and isinstance(again.keep[0], tuple)
    older = {
        name: value for name, value in json.loads(SPEC.to_json()).items() if name != "keep"
    }  # queued before the choice existed
    assert JobSpec.from_json(json.dumps(older)) == SPEC


def test_event_round_trips_through_stream_fields():
    event = JobEvent("done", "job-1", SPEC, images=[ResultImage("p", "f", 5, 30, 40)], seconds=1.5)
    assert JobEvent.from_fields({key.encode(): value.encode() for key, value in event.to_fields().items()}) == event


def test_an_event_read_back_from_the_stream_has_its_kind_as_the_enum():
    fields = JobEvent(EventKind.CANCELLED, "job-1", SPEC).to_fields()
    assert json.loads(fields["event"])["kind"] == "cancelled"  # the stream keeps the plain value
    assert JobEvent.from_fields(fields).kind is EventKind.CANCELLED


def test_an_event_of_an_unknown_kind_fails_on_reading_and_names_the_kind():
    body = json.loads(JobEvent(EventKind.DONE, "job-1", SPEC).to_fields()["event"]) | {"kind": "exploded"}
    with pytest.raises(ValueError, match="'exploded' is not a valid EventKind"):
        JobEvent.from_fields({"event": json.dumps(body)})


def test_every_status_rq_reports_is_a_job_status():
    assert {status.value for status in JobStatus} | {"gone"} == {status.value for status in Status}


def test_a_job_publishes_one_final_event_however_often_it_tries(redis):
    first = publish(redis, "events", JobEvent("done", "job-1", SPEC))
    # e.g. a sweep failing the job after its worker published and died
    assert publish(redis, "events", JobEvent("failed", "job-1", SPEC, error=JobFailed.code)) is None
    [(entry_id, fields)] = redis.xrange("events")
    assert entry_id.decode() == first and JobEvent.from_fields(fields).kind == "done"
    assert publish(redis, "events", JobEvent("done", "job-2", SPEC)) is not None


def test_the_stream_is_trimmed_only_below_what_the_group_still_needs(redis):
    for number in range(5):
        publish(redis, "events", JobEvent("done", f"early-{number}", SPEC), kept=3)
    assert redis.xlen("events") == 5  # no group yet: no bot ever read, nothing may go
    redis.xgroup_create("events", "bot", id="0")
    read = redis.xreadgroup("bot", "a", {"events": ">"}, count=4)[0][1]
    redis.xack("events", "bot", *[entry_id for entry_id, _ in read[:2]])  # two delivered, two pending, one unread
    publish(redis, "events", JobEvent("done", "late", SPEC), kept=3)
    left = [JobEvent.from_fields(fields).job_id for _, fields in redis.xrange("events")]
    assert left == ["early-2", "early-3", "early-4", "late"]
    redis.xack("events", "bot", *[entry_id for entry_id, _ in read[2:]])
    publish(redis, "events", JobEvent("done", "later", SPEC), kept=3)
    # Everything up to the last read entry was acknowledged: only it (the group's mark) and the unread ones stay.
    assert [JobEvent.from_fields(fields).job_id for _, fields in redis.xrange("events")] == [
        "early-3",
        "early-4",
        "late",
        "later",
    ]
