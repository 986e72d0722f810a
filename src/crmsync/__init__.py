"""crmsync: move customer records from files and other systems into Rally CRM."""

__version__ = "0.1.0"
