"""`soca-server`: migrate, serve, seed-demo, create-admin, expire-passes, recompute, demo, hub.

Each command opens one unit of work and commits at the end. Bad input (a
malformed or unreachable database URL, an unwritable file) prints one clear
line on stderr and exits non-zero; no traceback reaches the terminal.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from server.db import migrate as migrations
from server.db.models import utcnow
from server.db.session import make_engine, make_session_factory, unit_of_work
from server.errors import SocaError
from server.settings import ServerSettings

app = typer.Typer(
    name="soca-server",
    help="Soca Passport sync server and web site.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="SOCA_DATABASE_URL",
        help="postgresql://user@host:port/db or sqlite:///FILE (default: a SQLite file "
        "in the platform data folder).",
    ),
]

T = TypeVar("T")


def _fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"soca-server: {message}", err=True)
    raise typer.Exit(code)


def _settings(database_url: str | None) -> ServerSettings:
    return ServerSettings(database_url=database_url) if database_url else ServerSettings()


@contextmanager
def _engine(settings: ServerSettings) -> Iterator[Engine]:
    try:
        engine = make_engine(settings.database_url)
    except SocaError as exc:
        _fail(exc.message)
    try:
        yield engine
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "connection failed"
        _fail(f"cannot use the database {engine.url.render_as_string()}: {reason}")
    except SQLAlchemyError as exc:
        _fail(f"database error: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")
    except SocaError as exc:
        _fail(exc.message)
    finally:
        engine.dispose()


def _in_transaction(settings: ServerSettings, work: Callable[[Session], T]) -> T:
    with _engine(settings) as engine, unit_of_work(make_session_factory(engine)) as session:
        return work(session)


@app.command()
def migrate(database_url: DatabaseUrl = None) -> None:
    """Bring the database schema up to date."""
    settings = _settings(database_url)
    with _engine(settings) as engine:
        migrations.upgrade(engine)
        typer.echo(f"database at revision {migrations.current_revision(engine)}")


@app.command()
def serve(
    database_url: DatabaseUrl = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes (default SOCA_WORKERS, else one per core on PostgreSQL "
            "and one on SQLite). More than one uses every core; rate limits are shared "
            "(they count in the database).",
        ),
    ] = None,
) -> None:
    """Run the HTTP server (migrating first)."""
    from server.app import create_app
    from server.scheduler import check_schedule
    from server.wallet.runtime import load_wallets

    settings = _settings(database_url)
    try:
        check_schedule(settings.expiry_schedule)
        load_wallets(settings, now=utcnow()).close()  # the wallet files, checked before serving
    except SocaError as exc:
        _fail(exc.message)
    with _engine(settings) as engine:
        migrations.upgrade(engine)
    from server.serving import worker_count

    workers = workers or worker_count(settings)
    if workers == 1:
        from server.serving import (
            proxy_options,
            run_app,
            start_scheduler,
            start_wallet_worker,
            tune_gc,
        )

        app = create_app(settings)
        scheduler = start_scheduler(app)
        wallet_worker = start_wallet_worker(app)
        tune_gc()
        try:
            run_app(app, host=host, port=port, log_level="info", **proxy_options(settings))
        finally:
            if scheduler is not None:
                scheduler.stop()
            if wallet_worker is not None:
                wallet_worker.stop()
        return
    # Each worker process builds its own app from the environment: hand it the same
    # database and the same web secret (a fresh secret per process would break sessions).
    os.environ["SOCA_DATABASE_URL"] = settings.database_url
    os.environ["SOCA_SECRET_KEY"] = settings.secret_key
    from server.serving import run_workers

    raise typer.Exit(run_workers(host, port, workers))


DEV_PASS_TYPE = "pass.dev.socapassport"  # noqa: S105 - an identifier, not a secret


@app.command("wallet-dev-certs")
def wallet_dev_certs(
    out: Annotated[
        Path, typer.Option(help="Folder to write ca.pem, wwdr.pem, pass.pem, pass.key.")
    ],
    pass_type_id: Annotated[str, typer.Option(help="The Pass Type ID.")] = DEV_PASS_TYPE,
    team_id: Annotated[str, typer.Option(help="The team id.")] = "DEVTEAM000",
) -> None:
    """Make a self-made CA, a stand-in WWDR and a pass certificate for a local install.

    Passes signed with them verify against ca.pem, but a real iPhone will not
    install them: only Apple's own WWDR chain is trusted there.
    """
    from server.wallet.apple.devcerts import make_dev_certificates

    files = make_dev_certificates(out, pass_type_id=pass_type_id, team_id=team_id)
    typer.echo(f"SOCA_APPLE_PASS_TYPE_ID={pass_type_id}")
    typer.echo(f"SOCA_APPLE_TEAM_ID={team_id}")
    typer.echo(f"SOCA_APPLE_CERT_FILE={files['cert']}")
    typer.echo(f"SOCA_APPLE_KEY_FILE={files['key']}")
    typer.echo(f"SOCA_APPLE_WWDR_FILE={files['wwdr']}")
    typer.echo(f"# trust anchor for checking signatures: {files['ca']}")


@app.command("seed-demo")
def seed_demo(
    out: Annotated[Path, typer.Option("--out", help="Where to write the demo JSON.")],
    database_url: DatabaseUrl = None,
) -> None:
    """Create the demo world and write its JSON (tokens, ids and QR texts) to FILE."""
    from server.demo import build_demo_world

    settings = _settings(database_url)
    if out.exists() and out.is_dir():
        _fail(f"--out {out} is a directory; give a file path")
    with _engine(settings) as engine:
        migrations.upgrade(engine)
    world = _in_transaction(settings, lambda session: build_demo_world(session, now=utcnow()))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(world, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except OSError as exc:
        _fail(f"cannot write {out}: {exc.strerror}")
    typer.echo(
        f"demo world: {len(world['events'])} events, {len(world['attendees'])} attendees -> {out}"
    )


def _read_password() -> str:
    """The new password: asked twice on a terminal, else the first line of standard input."""
    if sys.stdin.isatty():
        typed: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        return typed
    return sys.stdin.readline().rstrip("\r\n")


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option("--email", help="The HQ account's email (its login).")],
    database_url: DatabaseUrl = None,
) -> None:
    """Create an HQ account, or set a new password for it (password on standard input)."""
    from server.domain import accounts

    settings = _settings(database_url)
    password = _read_password()
    with _engine(settings) as engine:
        migrations.upgrade(engine)

    def work(session: Session) -> tuple[str, bool]:
        user, created = accounts.set_admin(session, email=email, password=password)
        return str(user.email), created

    login, created = _in_transaction(settings, work)
    done = "created" if created else "password reset"
    typer.echo(f"HQ account {login}: {done}; log in at /login")


@app.command("expire-passes")
def expire_passes(
    database_url: DatabaseUrl = None,
    days: Annotated[
        int | None,
        typer.Option(help="Inactivity days (default PASS_INACTIVITY_EXPIRATION_DAYS, 90)."),
    ] = None,
) -> None:
    """Expire stamp-card passes with no scan for the inactivity period (seed 002)."""
    from server.domain import cards

    settings = _settings(database_url)
    inactivity = days or settings.pass_inactivity_expiration_days
    count = _in_transaction(
        settings,
        lambda session: cards.expire_inactive_passes(
            session, now=utcnow(), inactivity_days=inactivity
        ),
    )
    typer.echo(f"Expiring passes inactive for {inactivity}+ days: {count} expired")


@app.command()
def recompute(
    database_url: DatabaseUrl = None,
    fix: Annotated[bool, typer.Option(help="Correct the drift found.")] = False,
) -> None:
    """Rebuild derived figures from the ledgers and report any drift (exit 3 when found)."""
    from server.domain.recompute import recompute as run

    settings = _settings(database_url)
    report = _in_transaction(
        settings,
        lambda session: run(
            session, inactivity_days=settings.pass_inactivity_expiration_days, fix=fix
        ),
    )
    checked = ", ".join(f"{count} {table}" for table, count in report.checked.items())
    typer.echo(f"checked {checked}")
    for drift in report.drift:
        typer.echo(
            f"drift: {drift.table} {drift.row_id} {drift.column}: "
            f"stored {drift.stored!r}, ledger says {drift.expected!r}"
        )
    if report.drift:
        typer.echo(f"{len(report.drift)} drifted values {'fixed' if fix else 'found'}")
        if not fix:
            raise typer.Exit(3)
    else:
        typer.echo("no drift")


@app.command()
def demo(
    data_dir: Annotated[
        Path | None, typer.Option(help="Folder for the demo database and JSON (default: temp).")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Seed only, do not serve.")] = False,
) -> None:
    """Seed a fresh demo world into its own SQLite file and serve it."""
    import tempfile

    folder = data_dir or Path(tempfile.mkdtemp(prefix="soca-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "demo.sqlite3"
    database.unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    seed_demo(out=folder / "demo.json", database_url=url)
    typer.echo(f"demo JSON: {folder / 'demo.json'}")
    typer.echo(f"try: curl http://{host}:{port}/api/passport/landing-info")
    if not no_serve:
        serve(database_url=url, host=host, port=port)


@app.command()
def hub(
    upstream: Annotated[
        str | None, typer.Option(help="HQ's address, e.g. https://soca.example (first run).")
    ] = None,
    code: Annotated[str | None, typer.Option(help="A HUB pairing code made at HQ.")] = None,
    data_dir: Annotated[
        Path | None, typer.Option(help="The hub's folder (default: platform data folder).")
    ] = None,
    name: Annotated[str, typer.Option(help="The hub's name at HQ.")] = "Venue hub",
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "0.0.0.0",  # noqa: S104
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8100,
    advertise: Annotated[
        bool, typer.Option(help="Announce the hub on the local network (zeroconf).")
    ] = True,
) -> None:
    """Run a venue hub: pair with HQ once, then serve the venue's kiosks and relay to HQ."""
    from server.hub import serve as hub_serve

    folder = data_dir or hub_serve.default_folder()
    try:
        hub_serve.run(
            folder,
            upstream=upstream,
            code=code,
            name=name,
            host=host,
            port=port,
            advertise=advertise,
            say=typer.echo,
        )
    except RuntimeError as exc:
        _fail(str(exc))


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
