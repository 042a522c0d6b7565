"""Sample forms bundled for the demo and the tests (numbers from the seed forms)."""
