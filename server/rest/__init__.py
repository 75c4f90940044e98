"""The REST API under /api/ (oTree's endpoints) and the urn randomization API."""
