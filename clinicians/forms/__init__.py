"""The dashboard's forms, one module per area as in clinicians/views/; a view imports its area's
module directly."""
