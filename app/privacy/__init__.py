"""The privacy officer's tools: erasure after the retention periods, statistics, access reports."""
