"""gunicorn's settings file, read from the working directory (the repository root; /app in the
image) by every `gunicorn` started there. Command-line options still win over it.

The access log never shows query strings (`?search=Bloggs`, `?external_id=...`) or the secret
segments of calendar-feed, invitation and password-reset paths: see rehab/log_privacy.py."""

logger_class = "rehab.log_privacy.PrivateAccessLogger"
# The usual combined format; the logger class cleans the request line (%(r)s), the path and the
# referrer, and leaves %(q)s empty.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
