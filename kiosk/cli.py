"""The `soca-kiosk` command line.

Commands render `KioskError`s once, here: the message on stderr and a
non-zero exit status. Output meant for programs is one JSON object per line
on stdout.
"""

from __future__ import annotations

import enum
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import cv2
import numpy as np
import typer
from numpy.typing import NDArray

from kiosk.errors import CameraProblem, KioskError, UnreadableImage

if TYPE_CHECKING:
    from kiosk.scanner.sources import FrameSource
    from kiosk.settings import KioskSettings

app = typer.Typer(
    name="soca-kiosk",
    help="Soca Passport kiosk: door scanning and stamp cards that work offline.",
    no_args_is_help=True,
    add_completion=False,
)

EXIT_UNREADABLE = 2  # the contract's status for an image that cannot be read
EXIT_FAILURE = 1


class DecoderChoice(enum.StrEnum):
    """The QR decoder backends the CLI offers."""

    ZXING = "zxing"
    PYZBAR = "pyzbar"
    OPENCV = "opencv"


@app.callback()
def _root() -> None:
    """Soca Passport kiosk: door scanning and stamp cards that work offline."""


def read_image_gray(path: Path) -> NDArray[np.uint8]:
    """Load an image file as 8-bit gray; UnreadableImage when it is missing or not an image."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableImage(f"cannot read {path}: {exc.strerror or exc}") from exc
    # imdecode (unlike imread) prints no OpenCV warning of its own for a non-image.
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise UnreadableImage(f"cannot read {path}: not an image format OpenCV knows")
    return np.asarray(image, dtype=np.uint8)


@app.command()
def decode(
    images: Annotated[list[Path], typer.Argument(help="Image files to read QR codes from.")],
    decoder: Annotated[
        DecoderChoice, typer.Option(help="QR decoder backend.", case_sensitive=False)
    ] = DecoderChoice.ZXING,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Kiosk data folder (accepted like every command; decode needs none)."),
    ] = None,
) -> None:
    """Print one JSON line per image: its file, codes (nearest the centre first) and decode ms."""
    from kiosk.scanner.decoders import make_decoder, order_by_centre

    try:
        reader = make_decoder(decoder.value)
    except KioskError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(EXIT_FAILURE) from exc
    failed = False
    for path in images:
        try:
            gray = read_image_gray(path)
        except UnreadableImage as exc:
            typer.echo(f"error: {exc.message}", err=True)
            failed = True
            continue
        started = time.perf_counter()
        codes = reader.decode(gray)
        elapsed_ms = (time.perf_counter() - started) * 1000
        height, width = gray.shape
        texts = [code.text for code in order_by_centre(codes, width, height)]
        line = {"file": str(path), "codes": texts, "ms": round(elapsed_ms, 3)}
        typer.echo(json.dumps(line, ensure_ascii=False))
    if failed:
        raise typer.Exit(EXIT_UNREADABLE)


# ------------------------------------------------------------------ pair, sync, status, run

EXIT_REVOKED = 3  # `sync`: the server says this device is revoked (the outbox is kept)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Kiosk data folder (default: the platform's; env SOCA_KIOSK_DATA_DIR).",
    ),
]
PinOption = Annotated[
    str | None,
    typer.Option("--pin", help="Kiosk mode: full screen, and this PIN is needed to close it."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


class LanguageChoice(enum.StrEnum):
    """`--language`: the screens' language (Arabic is laid out right to left)."""

    EN = "en"
    AR = "ar"


LanguageOption = Annotated[
    LanguageChoice | None,
    typer.Option(
        "--language", help="Screen language: en or ar (default: env SOCA_KIOSK_LANGUAGE, else en)."
    ),
]


def _fail(exc: KioskError) -> NoReturn:
    typer.echo(f"error: {exc.message}", err=True)
    raise typer.Exit(EXIT_FAILURE) from exc


@app.command()
def pair(
    server: Annotated[
        str, typer.Option("--server", help="The sync server, e.g. http://host:8000.")
    ],
    code: Annotated[str, typer.Option("--code", help="A one-time pairing code from HQ.")],
    name: Annotated[
        str | None, typer.Option("--name", help="A name for this device (default: hostname).")
    ] = None,
    sync_now: Annotated[
        bool, typer.Option("--sync/--no-sync", help="Download this device's data right away.")
    ] = True,
    data_dir: DataDir = None,
) -> None:
    """Pair this kiosk with the server using a one-time code, then download its data."""
    from kiosk.app import pair_device, sync_once
    from kiosk.settings import load_settings

    try:
        settings = load_settings(data_dir=data_dir)
        config = pair_device(settings, server_url=server, code=code, name=name)
    except KioskError as exc:
        _fail(exc)
    scope = ", ".join(
        f"{key} {value}" for key, value in config.scope.model_dump().items() if value is not None
    )
    typer.echo(
        f"paired as {config.role.value} device {config.device_id} ({scope or 'no scope'}) "
        f"with {config.server_url}; config in {settings.config_path}"
    )
    if not sync_now:
        return
    try:
        report = sync_once(settings)
    except KioskError as exc:
        _fail(exc)
    if report.ok:
        typer.echo(f"downloaded {report.rows} row(s) in {report.pages} page(s)")
    else:
        typer.echo(f"paired, but the first sync failed: {report.error}", err=True)


@app.command()
def sync(data_dir: DataDir = None, json_output: JsonFlag = False) -> None:
    """Push pending ops and pull changes once; exit 1 on failure, 3 if the device is revoked."""
    from kiosk.app import sync_once
    from kiosk.settings import load_settings

    try:
        report = sync_once(load_settings(data_dir=data_dir))
    except KioskError as exc:
        _fail(exc)
    if json_output:
        typer.echo(json.dumps(report.to_json()))
    else:
        results = ", ".join(f"{count} {status}" for status, count in sorted(report.results.items()))
        typer.echo(
            f"pushed {report.pushed} op(s){f' ({results})' if results else ''}; "
            f"pulled {report.rows} row(s) in {report.pages} page(s); {report.pending} pending"
        )
        if report.error:
            typer.echo(f"error: {report.error}", err=True)
    if report.revoked:
        raise typer.Exit(EXIT_REVOKED)
    if not report.ok:
        raise typer.Exit(EXIT_FAILURE)


@app.command()
def status(data_dir: DataDir = None, json_output: JsonFlag = False) -> None:
    """Show pairing, online/offline, pending ops, last sync, last error and the clock offset."""
    from kiosk.app import open_kiosk
    from kiosk.settings import load_settings

    try:
        with open_kiosk(load_settings(data_dir=data_dir)) as kiosk:
            current = kiosk.status.get_status()
    except KioskError as exc:
        _fail(exc)
    typer.echo(json.dumps(current.to_json()) if json_output else current.to_text())


class ModeChoice(enum.StrEnum):
    """`run --mode`: what a scan does."""

    DOOR = "door"
    PRIZE = "prize"
    REVIEW = "review"


class PrizeActionChoice(enum.StrEnum):
    """`run --prize-action`: what a headless prize-mode scan does."""

    STAMP = "stamp"
    CLAIM = "claim"
    AUTO = "auto"


@app.command()
def run(
    headless: Annotated[
        bool, typer.Option("--headless", help="No window: print one JSON line per scan.")
    ] = False,
    camera: Annotated[
        str | None,
        typer.Option(
            "--camera", help="Camera index or video file (with --headless, instead of --codes)."
        ),
    ] = None,
    mode: Annotated[
        ModeChoice | None,
        typer.Option("--mode", help="door, prize or review (default: from the device's role)."),
    ] = None,
    codes: Annotated[
        str | None,
        typer.Option("--codes", help="Read codes from FILE, or - for standard input, one a line."),
    ] = None,
    gate: Annotated[str | None, typer.Option("--gate", help="This door's gate name.")] = None,
    offer: Annotated[
        str | None, typer.Option("--offer", help="Prize mode: the offer id (if several).")
    ] = None,
    prize_action: Annotated[
        PrizeActionChoice,
        typer.Option("--prize-action", help="Prize mode: stamp, claim, or auto (claim when full)."),
    ] = PrizeActionChoice.STAMP,
    background_sync: Annotated[
        bool, typer.Option("--sync/--no-sync", help="Sync in the background while scanning.")
    ] = True,
    explain: Annotated[
        bool, typer.Option("--explain", help="Also print each verdict's headline on stderr.")
    ] = False,
    pin: PinOption = None,
    language: LanguageOption = None,
    data_dir: DataDir = None,
) -> None:
    """Run the kiosk; with --headless, print {"op_id", "type", "verdict", "reason"} per scan."""
    import sys
    import uuid

    from kiosk.app import open_kiosk, start_sync_loop
    from kiosk.services.headless import PrizeAction, ScanMode, iter_codes
    from kiosk.settings import load_settings

    if not headless and codes is not None:
        typer.echo("error: --codes reads codes without a window; add --headless", err=True)
        raise typer.Exit(EXIT_FAILURE)
    if not headless:
        _run_window(
            data_dir=data_dir, gate=gate, camera=camera, mode=mode, pin=pin, language=language
        )
        return
    if codes is None and camera is None:
        typer.echo(
            "error: --headless needs --camera INDEX|FILE, or --codes FILE (--codes - reads a "
            "keyboard-wedge scanner on standard input)",
            err=True,
        )
        raise typer.Exit(EXIT_FAILURE)
    try:
        offer_id = uuid.UUID(offer) if offer else None
    except ValueError:
        typer.echo(f"error: --offer {offer!r} is not an offer id", err=True)
        raise typer.Exit(EXIT_FAILURE) from None
    try:
        settings = load_settings(data_dir=data_dir, gate=gate)
        kiosk = open_kiosk(settings, offer_id=offer_id)
    except KioskError as exc:
        _fail(exc)
    loop = None
    try:
        chosen = ScanMode(mode.value) if mode else kiosk.default_mode()
        handle = kiosk.scan_handler(chosen, PrizeAction(prize_action.value))
        if background_sync and kiosk.config is not None:
            loop = start_sync_loop(settings)

        def scan(code: str) -> None:
            verdict = handle(code)  # returns after the op's transaction committed
            sys.stdout.write(json.dumps(verdict.line()) + "\n")
            sys.stdout.flush()
            if explain:
                typer.echo(
                    f"{verdict.colour.value}: {verdict.headline}"
                    f"{' - ' + verdict.explanation if verdict.explanation else ''}",
                    err=True,
                )
            if loop is not None and verdict.op_id is not None:
                loop.trigger()

        if codes is None:
            assert camera is not None
            _scan_camera_headless(camera, scan)
            return
        try:
            stream = sys.stdin.buffer if codes == "-" else Path(codes).open("rb")  # noqa: SIM115
        except OSError as exc:
            typer.echo(f"error: cannot read --codes {codes}: {exc.strerror or exc}", err=True)
            raise typer.Exit(EXIT_FAILURE) from exc
        with stream:
            for code in iter_codes(stream):
                scan(code)
    except KioskError as exc:
        _fail(exc)
    finally:
        if loop is not None:
            loop.stop(timeout=settings.request_deadline_s)
        kiosk.close()


def _scan_camera_headless(camera: str, scan: Callable[[str], None]) -> None:
    """Feed `scan` every code the real Scanner accepts, without a window.

    A video file plays once at its own pace and the command ends with it; a
    camera index runs until Ctrl-C. The Scanner's workers need a Qt event loop:
    a QCoreApplication runs one (no display needed).
    """
    import signal

    from PySide6.QtCore import QCoreApplication, QTimer

    from kiosk.scanner.sources import CameraSource, FileSource
    from kiosk.scanner.worker import Scanner

    app = QCoreApplication.instance() or QCoreApplication([])
    source = CameraSource(int(camera)) if camera.isdigit() else FileSource(camera, fps=30)
    scanner = Scanner(source)
    problems: list[str] = []
    scanner.code_accepted.connect(scan)
    scanner.error_occurred.connect(problems.append)
    scanner.finished.connect(app.quit)
    signal.signal(signal.SIGINT, lambda *_: app.quit())
    ticker = QTimer()  # wakes the loop so Python sees Ctrl-C
    ticker.timeout.connect(_let_python_run)
    ticker.start(200)
    try:
        scanner.start()  # raises CameraNotFound at once for a missing camera
        app.exec()
    finally:
        ticker.stop()
        scanner.stop(timeout=2.0)
    if problems:
        raise CameraProblem(problems[-1])


def _open_camera(camera: str | None, fallback_codes: list[str] | None) -> FrameSource:
    """The camera to scan with: an index or a video file; with fallback codes, a simulated one.

    With no `--camera`, webcam 0 is tried; when it is missing and
    `fallback_codes` is given (the demo), the simulated camera shows them.
    """
    from kiosk.errors import CameraNotFound
    from kiosk.scanner.sources import CameraSource, FileSource

    if camera is not None and camera != "auto":
        if camera == "sim" and fallback_codes is not None:
            from kiosk.demo import DemoCameraSource

            return DemoCameraSource(fallback_codes)
        return CameraSource(int(camera)) if camera.isdigit() else FileSource(camera, loop=True)
    webcam = CameraSource(0)
    try:
        webcam.open()
    except CameraNotFound:
        if fallback_codes is None:
            raise
        from kiosk.demo import DemoCameraSource

        return DemoCameraSource(fallback_codes)
    webcam.close()
    return webcam


def _run_window(
    *,
    data_dir: Path | None,
    gate: str | None,
    camera: str | None,
    mode: ModeChoice | None,
    fallback_codes: list[str] | None = None,
    settings: KioskSettings | None = None,
    pin: str | None = None,
    language: LanguageChoice | None = None,
) -> None:
    from kiosk.app import open_kiosk
    from kiosk.services.headless import ScanMode
    from kiosk.services.pin import PinGuard
    from kiosk.services.setup import with_saved_gate
    from kiosk.settings import load_settings
    from kiosk.ui.main import run_door_window, run_prize_window, run_review_window

    try:
        settings = with_saved_gate(settings or load_settings(data_dir=data_dir, gate=gate))
        if language is not None:
            settings = load_settings(**{**settings.model_dump(), "language": language.value})
        with open_kiosk(settings) as kiosk:
            chosen = ScanMode(mode.value) if mode is not None else kiosk.default_mode()
            if chosen is ScanMode.REVIEW:
                if kiosk.config is None:
                    kiosk.scan_handler(chosen)  # raises NotPaired with the way out
            elif chosen is ScanMode.PRIZE:
                kiosk.require_prize()
            else:
                kiosk.require_door()
            stored_pin = kiosk.config.pin_hash if kiosk.config is not None else None
        # Kiosk mode (full screen, PIN to leave): --pin, else the PIN of `soca-kiosk pin set`.
        lock: str | PinGuard | None = pin
        if lock is None and stored_pin is not None:
            lock = PinGuard.from_hash(stored_pin)
        if chosen is ScanMode.REVIEW:
            status = run_review_window(settings, pin=lock)
        elif chosen is ScanMode.PRIZE:
            source = _open_camera(camera, fallback_codes)
            status = run_prize_window(settings, source, pin=lock)
        else:
            status = run_door_window(settings, _open_camera(camera, fallback_codes), pin=lock)
    except KioskError as exc:
        _fail(exc)
    if status != 0:
        raise typer.Exit(status)


@app.command()
def demo(
    headless: Annotated[
        bool,
        typer.Option("--headless", help="No window: print one JSON line per op, then a summary."),
    ] = False,
    folder: Annotated[
        Path | None,
        typer.Option(
            "--folder", help="Where the demo's server database and kiosk data go (default: temp)."
        ),
    ] = None,
    camera: Annotated[
        str | None,
        typer.Option(
            "--camera", help="auto (webcam 0, else simulated), sim, a camera index or a video file."
        ),
    ] = None,
    gate: Annotated[str, typer.Option("--gate", help="The demo door's gate name.")] = "Gate 1",
    port: Annotated[int | None, typer.Option("--port", help="The embedded server's port.")] = None,
    pin: PinOption = None,
    language: LanguageOption = None,
    data_dir: DataDir = None,
) -> None:
    """The whole system on this machine: an embedded server, demo data, a paired door kiosk."""
    import signal
    import sys
    import tempfile

    from kiosk.demo import run_headless, start_demo

    del data_dir  # the demo keeps its kiosk data in its own folder, never a real kiosk's
    # SIGTERM unwinds like Ctrl-C, so the embedded server is always stopped on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    where = folder or Path(tempfile.mkdtemp(prefix="soca-demo-"))
    try:
        setup = start_demo(
            where,
            gate=gate,
            port=port,
            say=lambda line: typer.echo(line, err=True),
        )
    except KioskError as exc:
        _fail(exc)
    try:
        if headless:

            def write(line: str) -> None:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()

            run_headless(setup, write=write)
        else:
            typer.echo(
                f"demo server: {setup.server.url} (admin token in {where / 'demo.json'})", err=True
            )
            _run_window(
                data_dir=None,
                gate=gate,
                camera=camera,
                mode=ModeChoice.DOOR,
                fallback_codes=setup.codes,
                settings=setup.settings,
                pin=pin,
                language=language,
            )
    finally:
        setup.server.stop()


# ------------------------------------------------------------------ setup, pin


@app.command()
def setup(
    server: Annotated[
        str, typer.Option("--server", help="Prefill the server address, e.g. http://host:8000.")
    ] = "",
    camera: Annotated[
        str | None,
        typer.Option("--camera", help="Camera index or video file for the pairing QR (default 0)."),
    ] = None,
    language: LanguageOption = None,
    data_dir: DataDir = None,
) -> None:
    """Open the setup screen: pair (typed code or pairing QR), choose mode and scope, see sync."""
    from kiosk.settings import load_settings
    from kiosk.ui.main import run_setup_window

    try:
        settings = load_settings(
            data_dir=data_dir, language=language.value if language is not None else None
        )
        status = run_setup_window(settings, lambda: _open_camera(camera, None), server=server)
    except KioskError as exc:
        _fail(exc)
    if status != 0:
        raise typer.Exit(status)


pin_app = typer.Typer(
    name="pin",
    help="Kiosk mode's PIN: with one set, `run` is full screen and asks for it to leave.",
    no_args_is_help=True,
)
app.add_typer(pin_app)


@pin_app.command("set")
def pin_set(data_dir: DataDir = None) -> None:
    """Set the PIN (asked twice; only a salted scrypt hash is stored in the device config)."""
    from kiosk.services.pin import check_new_pin, hash_pin
    from kiosk.services.setup import require_config, set_pin_hash
    from kiosk.settings import load_settings

    try:
        settings = load_settings(data_dir=data_dir)
        require_config(settings)  # before asking for anything
        pin = typer.prompt("New PIN", hide_input=True)
        again = typer.prompt("The same PIN again", hide_input=True)
        set_pin_hash(settings, hash_pin(check_new_pin(pin, again)))
    except KioskError as exc:
        _fail(exc)
    typer.echo("PIN set: `soca-kiosk run` now opens full screen and asks for it to leave.")


@pin_app.command("clear")
def pin_clear(data_dir: DataDir = None) -> None:
    """Remove the PIN: `run` opens in a normal window again."""
    from kiosk.services.setup import set_pin_hash
    from kiosk.settings import load_settings

    try:
        set_pin_hash(load_settings(data_dir=data_dir), None)
    except KioskError as exc:
        _fail(exc)
    typer.echo("PIN removed: `run` opens in a normal window.")


def main() -> None:
    """Run the `soca-kiosk` command line."""
    app()


def _let_python_run() -> None:
    """A timer's no-op: returning to Python lets it run its signal handlers (Ctrl-C)."""
