"""Demo portfolio: filled in by seed_portfolio (see accounts.demo for how seeders run)."""


def seed_portfolio(**options) -> list[str]:
    return []
