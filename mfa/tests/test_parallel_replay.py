from __future__ import annotations

import threading

import pytest
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from mfa import services
from mfa.tests.conftest import current_code


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs concurrent connections: SQLite locks the whole table (replay on SQLite is "
    "covered sequentially in test_login_second_factor)",
)
def test_the_same_totp_code_arriving_twice_in_parallel_is_accepted_once(employee_a):
    device = TOTPDevice.objects.create(user=employee_a, name="app", confirmed=True)
    code = current_code(device)
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def verify():
        barrier.wait()
        try:
            results.append(services.verify_code(device, code))
        finally:
            connection.close()

    threads = [threading.Thread(target=verify) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
