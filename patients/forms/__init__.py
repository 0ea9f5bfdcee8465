"""The portal's forms, one module per area as in patients/views/; a view imports its area's
module directly."""
