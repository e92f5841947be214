#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reoffending.settings")
    # A developer's machine has no SECRET_KEY: run in local development mode there.
    # Deployments set SECRET_KEY (and DEBUG=0), so they never fall back to this.
    if not os.environ.get("SECRET_KEY"):
        os.environ.setdefault("DEBUG", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
