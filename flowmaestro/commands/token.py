"""`flowmaestro token --user U [--ttl S]`: mint a development JWT with the configured secret."""

from __future__ import annotations

import click

from flowmaestro.gateway import mint_token
from flowmaestro.runtime import settings_of


@click.command("token")
@click.option("--user", "user_id", required=True, help="the token's subject (user id)")
@click.option("--ttl", type=click.IntRange(min=1), default=3600, show_default=True, help="seconds")
@click.pass_context
def token_command(ctx: click.Context, user_id: str, ttl: int) -> None:
    """Print an HS256 token for USER signed with FLOWMAESTRO_JWT_SECRET."""
    settings = settings_of(ctx)
    if settings.jwt_secret is None:
        raise click.ClickException("FLOWMAESTRO_JWT_SECRET is not set: set it to the gateway's")
    click.echo(
        mint_token(
            settings.jwt_secret.get_secret_value(),
            user_id,
            ttl,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
        )
    )
