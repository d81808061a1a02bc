"""The parse stage as it was at 5524a7a, before it was made cheaper: today's must give the same.

Frozen copies of its email-package path (``parse_message_reference``) and the
modules it read through (headers, MIME walk, charsets, HTML, quoting); the
email package and ``bot.parse_error`` and ``bot.message`` did not change and
are imported. tests/test_parse_frozen.py parses with both.
"""
