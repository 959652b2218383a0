"""Per-language number and date formats (FORMAT_MODULE_PATH), over Django's own.

Chinese: Django groups no digits ("26573"); money and counts on these pages are
read as in mainland business use, with a comma every three digits ("26,573").
English: dates as the pages have always written them ("7 Dec 2026").
"""
