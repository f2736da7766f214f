"""`flowmaestro token --user U [--ttl S] [--workspace W] [--group G ...]`: mint a development
JWT with the configured secret (the workspace and groups under the configured claim names,
docs/teams.md)."""

from __future__ import annotations

import click

from flowmaestro.gateway import mint_token
from flowmaestro.runtime import settings_of


@click.command("token")
@click.option("--user", "user_id", required=True, help="the token's subject (user id)")
@click.option("--ttl", type=click.IntRange(min=1), default=3600, show_default=True, help="seconds")
@click.option("--workspace", default=None, help="the user's workspace (default: a personal one)")
@click.option("--group", "groups", multiple=True, help="a group of the user (repeatable)")
@click.pass_context
def token_command(
    ctx: click.Context, user_id: str, ttl: int, workspace: str | None, groups: tuple[str, ...]
) -> None:
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
            workspace=workspace,
            groups=list(groups) if groups else None,
            workspace_claim=settings.jwt_workspace_claim,
            groups_claim=settings.jwt_groups_claim,
        )
    )
