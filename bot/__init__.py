"""ALS helpdesk bot: answers email inquiries about ultra-high-dose methylcobalamin, with staff approval."""

__version__ = "0.1.0"
