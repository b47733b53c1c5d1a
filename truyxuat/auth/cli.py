"""CLI for accounts: users and API keys."""

from __future__ import annotations

from typing import NoReturn

import typer
from sqlalchemy import select

from truyxuat.auth import service
from truyxuat.auth.models import Role
from truyxuat.config import get_settings
from truyxuat.db import make_engine, make_sessionmaker, session_scope
from truyxuat.errors import DomainError
from truyxuat.i18n import gettext
from truyxuat.registry.models import Organization

apikey_app = typer.Typer(help="API keys for machine clients.", no_args_is_help=True)
user_app = typer.Typer(help="User accounts.", no_args_is_help=True)


def exit_with_error(exc: DomainError) -> NoReturn:
    """Prints a domain error (translated, with its fields) and exits with status 2."""
    locale = get_settings().default_locale
    typer.secho(gettext(locale, exc.message, **exc.params), fg="red", err=True)
    for err in getattr(exc, "errors", []):
        typer.secho(
            f"  {err.loc[-1]}: {gettext(locale, err.message, **err.params)}", fg="red", err=True
        )
    raise typer.Exit(2)


def _org(session: object, code: str) -> Organization:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    org = session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        typer.secho(f"unknown organization code: {code}", fg="red", err=True)
        raise typer.Exit(2)
    return org


@apikey_app.command("create")
def apikey_create(
    org: str = typer.Option(..., "--org", help="Organization code."),
    role: Role = typer.Option(..., "--role", help="Role the key acts with."),
    name: str = typer.Option("", "--name", help="A label for the key."),
) -> None:
    """Creates an API key and prints it once; only its hash is stored."""
    factory = make_sessionmaker(make_engine(get_settings().database_url))
    try:
        with session_scope(factory) as session:
            organization = _org(session, org)
            key, plain = service.create_api_key(session, org=organization, role=role, name=name)
            service.record(
                session,
                None,
                "create",
                "api_key",
                key.id,
                organization.id,
                {"role": role, "name": name, "via": "cli"},
            )
    except DomainError as exc:
        exit_with_error(exc)
    typer.echo(plain)


@apikey_app.command("revoke")
def apikey_revoke(
    prefix: str = typer.Argument(..., help="The key's prefix (second part)."),
) -> None:
    """Revokes an API key by its prefix."""
    from truyxuat.auth.models import ApiKey
    from truyxuat.db import utcnow

    factory = make_sessionmaker(make_engine(get_settings().database_url))
    with session_scope(factory) as session:
        key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
        if key is None:
            typer.secho("unknown key", fg="red", err=True)
            raise typer.Exit(2)
        key.revoked_at = key.revoked_at or utcnow()
        service.record(session, None, "revoke", "api_key", key.id, key.org_id, {"via": "cli"})
    typer.echo(f"revoked {prefix}")


@user_app.command("create")
def user_create(
    email: str = typer.Option(..., help="Login email."),
    name: str = typer.Option(..., help="Full name."),
    org: str = typer.Option(..., "--org", help="Organization code."),
    role: Role = typer.Option(..., "--role", help="Role in that organization."),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
) -> None:
    """Creates a user with a role in an organization."""
    factory = make_sessionmaker(make_engine(get_settings().database_url))
    try:
        with session_scope(factory) as session:
            organization = _org(session, org)
            user = service.create_user(session, email=email, full_name=name, password=password)
            service.add_membership(session, user=user, org=organization, role=role)
            service.record(
                session,
                None,
                "create",
                "user",
                user.id,
                organization.id,
                {"email": user.email, "role": role, "via": "cli"},
            )
    except DomainError as exc:
        exit_with_error(exc)
    typer.echo(f"created {email}")
