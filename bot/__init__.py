"""Tiketti: a helpdesk that lives inside team chat."""

__version__ = "0.1.0"
