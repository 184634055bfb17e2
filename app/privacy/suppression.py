"""Small-count suppression with complementary suppression, for statistics that leave the registry."""


def suppress_total(count: int, threshold: int) -> int | None:
    return None if 0 < count < threshold else count


def suppress(counts: dict[str, int], threshold: int) -> dict[str, int | None]:
    """Hides counts below the threshold; if only one is hidden, the next smallest is hidden too, so
    that no hidden count can be recomputed from the total and the others."""
    hidden = {k for k, v in counts.items() if 0 < v < threshold}
    if len(hidden) == 1:
        visible = sorted((v, k) for k, v in counts.items() if k not in hidden and v > 0)
        if visible:
            hidden.add(visible[0][1])
    return {k: (None if k in hidden else v) for k, v in sorted(counts.items())}
