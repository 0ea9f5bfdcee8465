"""Settings of the API benchmark (bench/api.py): the product's own settings, plus the two
minimal endpoints of bench/urls.py it compares the API against. Never used outside `make bench`."""

from rehab.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
