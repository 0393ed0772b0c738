"""SQLite, the embedded default, folding case the way PostgreSQL does.

SQLite's own LOWER(), UPPER() and LIKE fold ASCII letters only: "MÜLLER" and "Müller" would be
two people, and "anna@MÜNCHEN.example" another address than "anna@münchen.example", where
PostgreSQL folds every letter. The portal compares user names, addresses and people's names
case-insensitively (``Lower(...)``, ``__iexact`` and the ``__icontains`` searches), so this
backend gives them Python's folding.
settings.py selects it for every SQLite URL.
"""

from __future__ import annotations

from django.db.backends.sqlite3 import base


def _lower(value):
    return value.lower() if isinstance(value, str) else value


def _upper(value):
    return value.upper() if isinstance(value, str) else value


FOLDED_LOOKUPS = ("iexact", "icontains", "istartswith", "iendswith")


class DatabaseOperations(base.DatabaseOperations):
    def lookup_cast(self, lookup_type, internal_type=None):
        # __iexact as LOWER(column) = LOWER(value) rather than SQLite's ASCII-only LIKE; it can
        # use the LOWER(...) indexes of user names and addresses, too. The searches compare
        # LOWER(column) LIKE LOWER(pattern): the same folding on both sides.
        if lookup_type in FOLDED_LOOKUPS:
            return "LOWER(%s)"
        return super().lookup_cast(lookup_type, internal_type)

    def prep_for_iexact_query(self, x):
        return x  # compared with =, not LIKE: no wildcards to escape


class DatabaseWrapper(base.DatabaseWrapper):
    operators = {
        **base.DatabaseWrapper.operators,
        "iexact": "= LOWER(%s)",
        "icontains": "LIKE LOWER(%s) ESCAPE '\\'",
        "istartswith": "LIKE LOWER(%s) ESCAPE '\\'",
        "iendswith": "LIKE LOWER(%s) ESCAPE '\\'",
    }
    pattern_ops = {
        **base.DatabaseWrapper.pattern_ops,
        "icontains": r"LIKE '%%' || LOWER({}) || '%%' ESCAPE '\'",
        "istartswith": r"LIKE LOWER({}) || '%%' ESCAPE '\'",
        "iendswith": r"LIKE '%%' || LOWER({}) ESCAPE '\'",
    }
    ops_class = DatabaseOperations

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        # Deterministic, as the LOWER(username) and LOWER(email) indexes require.
        connection.create_function("LOWER", 1, _lower, deterministic=True)
        connection.create_function("UPPER", 1, _upper, deterministic=True)
        return connection
