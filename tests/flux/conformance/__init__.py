"""Flux conformance cases, one module per feature; expected values come from Flux's docs."""
