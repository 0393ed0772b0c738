"""gunicorn configuration: `gunicorn -c portal/gunicorn.py portal.wsgi`.

Sign-in (Argon2) and page rendering are both CPU-bound in Python: the benchmark (bench/)
measured pages spending about 0.1 ms waiting on PostgreSQL for every 5 ms of CPU. So the
default is gunicorn's plain sync worker, one per core plus one: threads in a worker only
add switching of the interpreter lock (about 13 % more CPU per page, measured). Sync workers
need a buffering proxy in front (see README, "Production"); set GUNICORN_THREADS=2 or more
for the gthread worker where there is none.
"""

import gc
import multiprocessing
import os

bind = os.environ.get("BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = 30
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
preload_app = True
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn's control socket (for gunicornc) defaults to one path per user account, shared by
# every gunicorn that account runs: a second deployment, or the benchmark beside a running
# portal, would take it over. Only where a path is given.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
control_socket_disable = not control_socket


def when_ready(server):
    """Freeze what the preload created, once, before the first fork.

    Workers then share the preloaded Django modules and objects copy-on-write for good:
    the garbage collector no longer writes to them (its bookkeeping lives in each object's
    header), and its full collections stop walking them. Python's gc documentation gives
    this recipe for pre-fork servers. Not in pre_fork: the master forks again after every
    `max_requests`, and freezing each time would keep its garbage forever.
    """
    gc.freeze()
