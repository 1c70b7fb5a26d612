"""The faust worker: stream processors for dispatch and notification."""
