"""The error tree: what crosses a process boundary travels by a stable code."""

import re

import pytest

from shopshot import errors


def _tree_names() -> list[str]:
    return re.findall(r"[├└]── (\w+)", errors.__doc__)


def test_the_classes_follow_the_docstring_tree_and_all_of_them_are_exported():
    defined = [
        name
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, errors.ShopshotError)
    ]
    assert defined == ["ShopshotError", *_tree_names()]
    assert set(defined) <= set(errors.__all__)


def test_every_error_has_its_own_code_and_the_code_finds_it_again():
    kinds = [getattr(errors, name) for name in _tree_names()]
    assert len({kind.code for kind in kinds}) == len(kinds)
    assert all(errors.from_code(kind.code) is kind for kind in kinds)


def test_a_code_this_process_does_not_know_is_worded_as_a_failed_job():
    assert errors.from_code("no_such_error") is errors.JobFailed
    assert errors.from_code(None) is errors.JobFailed
    assert errors.from_code("NoProductFound") is errors.JobFailed  # a class name is not a code


def test_a_code_cannot_be_taken_twice():
    with pytest.raises(TypeError, match="no_product_found"):
        type("Another", (errors.InputError,), {}, code="no_product_found")
