from flowmaestro.wording import plural


def test_plural() -> None:
    assert [plural(n, "chunk") for n in (0, 1, 2)] == ["0 chunks", "1 chunk", "2 chunks"]
    assert plural(3, "retry", "retries") == "3 retries"
