#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reoffending.settings")
    # A developer's machine has no SECRET_KEY: run in local development mode there (DEBUG stays off
    # unless asked for, so pages and errors look as they will in service). Deployments set SECRET_KEY.
    if not os.environ.get("SECRET_KEY"):
        os.environ.setdefault("LOCAL_DEVELOPMENT", "1")
    if sys.argv[1:2] != ["runserver"]:
        # Commands an operator runs (migrations, generators, backfills) may take minutes: no statement
        # timeout, and a longer wait for locks than a web request gets (settings: bounded waits).
        os.environ.setdefault("DB_STATEMENT_TIMEOUT", "0")
        os.environ.setdefault("DB_LOCK_TIMEOUT", os.environ.get("DB_LONG_LOCK_TIMEOUT", "30s"))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
