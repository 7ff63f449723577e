"""The kiosk's dark theme: one stylesheet and the verdict colours, readable from 2 m."""

from __future__ import annotations

from kiosk.services.verdict import Colour

BACKGROUND = "#121417"
SURFACE = "#1c1f24"
TEXT = "#eef1f5"
MUTED = "#9aa3ad"

CARD_COLOURS: dict[Colour, tuple[str, str]] = {  # (background, text)
    Colour.GREEN: ("#0f5f2c", "#ffffff"),
    Colour.AMBER: ("#8a5a00", "#ffffff"),
    Colour.RED: ("#8f1d1d", "#ffffff"),
}

STYLESHEET = f"""
QWidget {{ background: {BACKGROUND}; color: {TEXT}; font-size: 18px; }}
QFrame#panel {{ background: {SURFACE}; border-radius: 12px; }}
QFrame#panel QLabel {{ background: transparent; }}
QLabel#muted {{ color: {MUTED}; }}
QLabel#counter {{ font-size: 34px; font-weight: 700; }}
QLabel#counterCaption {{ color: {MUTED}; font-size: 15px; }}
QLabel#statusChip {{ background: {SURFACE}; border-radius: 8px; padding: 4px 10px; }}
QLabel#statusChip[state="bad"] {{ background: #6b1b1b; }}
QLabel#statusChip[state="good"] {{ background: #16452a; }}
QLabel#statusChip[state="warn"] {{ background: #6b4a00; }}
QLabel#preview {{ background: #000000; border-radius: 12px; color: {MUTED}; }}
QLineEdit {{ background: {SURFACE}; border: 1px solid #3a3f47; border-radius: 8px;
             padding: 10px; font-size: 22px; }}
QListWidget {{ background: {SURFACE}; border: none; border-radius: 8px; font-size: 20px; }}
QListWidget::item {{ padding: 12px; border-bottom: 1px solid #2a2e35; }}
QPushButton {{ background: #2b3038; border: none; border-radius: 10px; padding: 14px 22px;
               font-size: 20px; }}
QPushButton:disabled {{ color: #5b626b; }}
"""
