"""The REST API for clinic systems (and patients' own apps), versioned under /api/v1/.

Doors only: serializers parse and render, views call services and selectors. No clinical rule
lives here."""
