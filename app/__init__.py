"""Casusregister: case registry for the person-centred approach to radicalisation."""

API_VERSION = "1.0.0"
