from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.db.models import Count, Q
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from portal.prepared import PreparedQuery, PreparedQueryError

USER_WITH_COMPANY = PreparedQuery(
    lambda pk: _user_with_company().filter(pk=pk),
    pk=int,
)


def _user_with_company():
    return User.objects.select_related("company").annotate(group_count=Count("groups"))


def _fields(instance) -> dict:
    return {name: value for name, value in vars(instance).items() if name != "_state"}


def test_it_builds_the_instances_the_queryset_builds(manager_a):
    [expected] = _user_with_company().filter(pk=manager_a.pk)

    [user] = USER_WITH_COMPANY(pk=manager_a.pk)

    assert _fields(user) == _fields(expected)
    assert user.group_count == 1
    assert _fields(user.company) == _fields(expected.company)
    assert user._state.db == "default"
    assert not user._state.adding


def test_it_loads_the_related_object_in_the_same_query(employee_a, django_assert_num_queries):
    with django_assert_num_queries(1):
        [user] = USER_WITH_COMPANY(pk=employee_a.pk)
        assert user.company.name == "Alpha AG"


def test_it_runs_through_djangos_cursor(employee_a):
    USER_WITH_COMPANY(pk=employee_a.pk)  # compiled before the capture

    with CaptureQueriesContext(connection) as queries:
        USER_WITH_COMPANY(pk=employee_a.pk)

    assert len(queries) == 1
    assert str(employee_a.pk) in queries[0]["sql"]


def test_it_returns_the_row_of_each_value(employee_a, employee_b):
    assert [user.username for user in USER_WITH_COMPANY(pk=employee_a.pk)] == ["c10001.ea"]
    assert [user.username for user in USER_WITH_COMPANY(pk=employee_b.pk)] == ["c20002.eb"]
    assert [user.username for user in USER_WITH_COMPANY(pk=str(employee_b.pk))] == ["c20002.eb"]


@pytest.mark.parametrize("pk", [2**63, -(2**63) - 1, 10**30])
def test_an_integer_outside_the_64_bit_range_finds_nothing(db, pk):
    assert USER_WITH_COMPANY(pk=pk) == []


def test_it_returns_nothing_for_a_missing_row(db):
    assert USER_WITH_COMPANY(pk=987654) == []


def test_it_takes_string_placeholders(employee_a, employee_b):
    by_username = PreparedQuery(lambda name: User.objects.filter(username=name), name=str)

    assert by_username(name="c20002.eb") == [employee_b]
    assert by_username(name="nobody") == []


def test_it_rejects_a_placeholder_that_a_lookup_changes(db):
    containing = PreparedQuery(lambda name: User.objects.filter(username__contains=name), name=str)

    with pytest.raises(PreparedQueryError, match="'name' appears 0 times"):
        containing(name="c1")


def test_it_rejects_a_placeholder_used_twice(db):
    either = PreparedQuery(lambda pk: User.objects.filter(Q(pk=pk) | Q(company_id=pk)), pk=int)

    with pytest.raises(PreparedQueryError, match="'pk' appears 2 times"):
        either(pk=1)


def test_it_rejects_an_unused_placeholder(db):
    unused = PreparedQuery(lambda pk: User.objects.filter(is_active=True), pk=int)

    with pytest.raises(PreparedQueryError, match="'pk' appears 0 times"):
        unused(pk=1)


def test_it_rejects_querysets_that_need_more_than_one_query(db):
    prefetching = PreparedQuery(
        lambda pk: User.objects.prefetch_related("groups").filter(pk=pk), pk=int
    )

    with pytest.raises(PreparedQueryError, match="prefetch_related"):
        prefetching(pk=1)


def test_it_rejects_wrong_arguments():
    with pytest.raises(TypeError, match="must be int or str"):
        PreparedQuery(lambda day: User.objects.filter(date_joined__date=day), day=object)
    with pytest.raises(TypeError, match="Expected"):
        USER_WITH_COMPANY(id=1)


@pytest.mark.django_db(transaction=True)
def test_it_reconnects_after_the_connection_closed(employee_a):
    USER_WITH_COMPANY(pk=employee_a.pk)
    connection.close()

    assert USER_WITH_COMPANY(pk=employee_a.pk) == [employee_a]


@pytest.mark.django_db(transaction=True)
def test_it_compiles_once_per_thread(employee_a):
    builds = []

    def build(pk):
        builds.append(threading.get_ident())
        return User.objects.filter(pk=pk)

    prepared = PreparedQuery(build, pk=int)

    def load_twice() -> None:
        try:
            prepared(pk=employee_a.pk)
            prepared(pk=employee_a.pk)
        finally:
            connections.close_all()

    load_twice_here = [prepared(pk=employee_a.pk) for _ in range(2)]
    thread = threading.Thread(target=load_twice)
    thread.start()
    thread.join()
    prepared(pk=employee_a.pk)

    assert load_twice_here == [[employee_a]] * 2
    # Two builds per compile (the SQL must not change with the values), one compile per thread.
    assert len(builds) == 4
    assert len(set(builds)) == 2


@pytest.mark.django_db(transaction=True)
def test_it_compiles_again_for_a_replaced_connection(employee_a):
    USER_WITH_COMPANY(pk=employee_a.pk)
    original = connections["default"]
    replacement = connections.create_connection("default")
    connections["default"] = replacement
    try:
        with CaptureQueriesContext(replacement) as queries:
            assert USER_WITH_COMPANY(pk=employee_a.pk) == [employee_a]
    finally:
        connections["default"] = original
        replacement.close()

    assert len(queries) == 1


@pytest.mark.django_db(transaction=True)
def test_each_thread_runs_it_on_its_own_connection(employee_a, employee_b):
    # Compiled here first: a thread using this thread's connection would raise DatabaseError.
    assert USER_WITH_COMPANY(pk=employee_a.pk) == [employee_a]
    expected = {"a": employee_a, "b": employee_b}
    start = threading.Barrier(len(expected))
    found, errors = {}, []

    def load(key: str) -> None:
        try:
            start.wait()
            found[key] = [USER_WITH_COMPANY(pk=expected[key].pk) for _ in range(20)]
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=load, args=(key,)) for key in expected]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert found == {key: [[user]] * 20 for key, user in expected.items()}
    assert USER_WITH_COMPANY(pk=employee_b.pk) == [employee_b]


LOCKED_USER = PreparedQuery(
    lambda pk: User.objects.select_for_update(of=("self",)).filter(pk=pk),
    pk=int,
)


@pytest.mark.django_db
def test_a_locking_query_runs_inside_a_transaction(employee_a):
    from django.db import transaction

    with transaction.atomic():
        [user] = LOCKED_USER(pk=employee_a.pk)
        [again] = LOCKED_USER(pk=employee_a.pk)  # compiled already: still checked, still runs
    assert user.pk == again.pk == employee_a.pk


@pytest.mark.django_db(transaction=True)  # a test transaction would hide autocommit
def test_a_locking_query_outside_a_transaction_is_refused_where_rows_can_be_locked(employee_a):
    from django.db import transaction
    from django.db.transaction import TransactionManagementError

    with transaction.atomic():
        LOCKED_USER(pk=employee_a.pk)  # compile inside the transaction
    if not connection.features.has_select_for_update:
        assert LOCKED_USER(pk=employee_a.pk)  # SQLite: no row locks, nothing to refuse
        return
    with pytest.raises(TransactionManagementError):
        LOCKED_USER(pk=employee_a.pk)
