"""The WSGI application benchmarks/intake.py serves: clinicflow as deployed, plus one bare view as the floor.

    gunicorn benchmarks.support.intake_site:application
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinicflow.settings")

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
# Read per request, so this serves the project's URLs and the bare view side by side.
settings.ROOT_URLCONF = "benchmarks.support.intake_urls"
