"""What the printable documents (HTML) share: every value escaped, nothing but what the JSON view holds."""

STYLE = """body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#111}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #999;padding:.3rem .5rem;text-align:left}
th{background:#eee}.emergency{font-weight:bold}@media print{body{margin:0}}"""
