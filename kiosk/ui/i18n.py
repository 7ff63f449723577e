"""The kiosk's two languages: English source strings, an Arabic catalogue, and layout direction.

Every user-visible string in `kiosk.ui` goes through `tr("English text", name=value)`:
the English text is the key (as in Qt's own `tr`), so an untranslated string still
reads correctly. `set_language` switches the catalogue and the application's layout
direction (Arabic is right-to-left); widgets built afterwards pick both up.

What the kiosk services say stays English there (they know no language and no Qt);
this module renders it at the edge:

- a refusal's reason sentence comes from `ARABIC_REASONS`, keyed by the closed
  `core.reasons.Reason` enum and filled from the verdict's `context` (whose few
  English fragments, such as kind names, are translated on the way in);
- a verdict's headline is looked up in `ARABIC` like any string; the few that
  carry a value (a name, a package, a card summary) are matched by `HEADLINE_PATTERNS`;
- tier names: point tiers (BRONZE..ELITE) from this catalogue, stamp-card tiers
  from their own `name_ar`, which `PrizeService` carries in `Verdict.tier_ar` and
  `CardView.tier_ar` / `summary_ar`.

Times and numbers stay in Western digits.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from core.reasons import Reason
from kiosk.services.verdict import CardView, Verdict
from kiosk.settings import Language

# English source text → Arabic. Placeholders ({name}) are kept as they are.
ARABIC: dict[str, str] = {
    # --- door screen (kiosk/ui/door.py)
    "Soca Passport — door ({gate})": "Soca Passport — المدخل ({gate})",
    "<b>Door</b> · {gate}": "<b>المدخل</b> · {gate}",
    "<b>Door</b> · {gate} · {event}": "<b>المدخل</b> · {gate} · {event}",
    "No camera: scan with the handheld scanner, or search by name.\n"
    "A camera plugged in is picked up by itself.": (
        "لا توجد كاميرا: امسح بالماسح اليدوي، أو ابحث بالاسم.\nتُستخدم أي كاميرا تُوصَل تلقائياً."
    ),
    "Check in": "تسجيل الدخول",
    "Check in {name} by hand?": "تسجيل دخول {name} يدوياً؟",
    "✖ This kiosk has been revoked": "✖ أُلغي هذا الجهاز",
    "It admits nobody. Scans made before are kept and are sent once it is "
    "paired again: ask HQ or the promoter for a new pairing code "
    "(soca-kiosk setup).": (
        "لا يُدخل أحداً. تُحفظ عمليات المسح السابقة وتُرسل بعد إعادة الاقتران: "
        "اطلب رمز اقتران جديداً من الإدارة أو المنظّم (soca-kiosk setup)."
    ),
    # --- door verdicts said by the services (headlines and notes)
    "A passport, not a ticket": "هذا جواز سفر، وليس تذكرة",
    "Ticket code not on this device's list": "رمز التذكرة ليس في قائمة هذا الجهاز",
    "This kiosk has been revoked": "أُلغي هذا الجهاز",
    "Valid ticket, not yet on this device's list (sold after the last sync): "
    "it will be confirmed at the next sync.": (
        "تذكرة صالحة لم تصل بعد إلى قائمة هذا الجهاز (بيعت بعد آخر مزامنة): "
        "ستُؤكَّد في المزامنة التالية."
    ),
    "Starting…": "جارٍ البدء…",
    "Pending —": "قيد الإرسال —",
    "Pending {count}": "قيد الإرسال {count}",
    "Last sync —": "آخر مزامنة —",
    "Last sync {time}": "آخر مزامنة {time}",
    "never": "لم تحدث بعد",
    "Camera —": "الكاميرا —",
    "No camera": "لا توجد كاميرا",
    "this device": "هذا الجهاز",
    "this gate": "هذه البوابة",
    "whole event": "الحدث كاملاً",
    "Search name, @handle or ticket code": "ابحث بالاسم أو ‎@المعرّف أو رمز التذكرة",
    "Code won't read? Search, then tap a ticket to check it in.": (
        "الرمز لا يُقرأ؟ ابحث، ثم المس التذكرة لتسجيل دخولها."
    ),
    "(no name)": "(بلا اسم)",
    "✖ revoked": "✖ ملغاة",
    "⚠ in {time} at {gate}": "⚠ دخلت {time} عند {gate}",
    "→ tap to check in": "← المس لتسجيل الدخول",
    "● Revoked": "● الجهاز ملغى",
    "● Not synced yet": "● لم تتم المزامنة بعد",
    "● Online": "● متصل",
    "● Online via venue hub": "● متصل عبر خادم المكان",
    "● Offline": "● غير متصل",
    "⚠ Clock off by {offset:+.0f} s": "⚠ الساعة منحرفة بمقدار {offset:+.0f} ث",
    "Camera on": "الكاميرا تعمل",
    "Camera lost": "انقطعت الكاميرا",
    "Camera reconnecting…": "جارٍ إعادة توصيل الكاميرا…",
    "Camera stopped": "الكاميرا متوقفة",
    "Camera error": "خطأ في الكاميرا",
    "Language": "اللغة",
    # --- kiosk-mode lock (kiosk/ui/lock.py)
    "Enter the PIN to leave kiosk mode": "أدخل الرمز السري للخروج من وضع الكشك",
    "Unlock": "فتح",
    "Cancel": "إلغاء",
    "Wrong PIN. Try again.": "رمز سري خاطئ. حاول مرة أخرى.",
    # --- verdict card (kiosk/ui/verdict_card.py)
    "◆ Bronze": "◆ برونزي",
    "◆ Silver": "◆ فضي",
    "★ Gold": "★ ذهبي",
    "♛ Elite": "♛ النخبة",
    "{points} pts": "{points} نقطة",
    "up from {tier}!": "ترقية من {tier}!",
    # --- prize screen (kiosk/ui/prize.py)
    "Soca Passport — prize": "Soca Passport — الجوائز",
    "<b>Prize</b> · stamp card": "<b>الجوائز</b> · بطاقة الأختام",
    "Scan the customer's pass": "امسح بطاقة العميل",
    "Scan a pass to see its card": "امسح بطاقة لعرض بطاقة أختامها",
    "Add stamp": "أضف ختماً",
    "Confirm prize given": "أكّد تسليم الجائزة",
    "Yes, prize given": "نعم، سُلِّمت الجائزة",
    "this customer": "هذا العميل",
    "★ Tier up! Now {tier} ★": "★ ترقية! المستوى الآن {tier} ★",
    # --- review screen (kiosk/ui/review.py)
    "Soca Passport — review": "Soca Passport — المراجعة",
    "<b>Review</b> · sync and problems": "<b>المراجعة</b> · المزامنة والمشكلات",
    "No problems: every op the server saw was applied.": (
        "لا مشكلات: طُبِّقت كل العمليات التي وصلت إلى الخادم."
    ),
    "Sync now": "زامن الآن",
    "Refresh": "تحديث",
    "cannot read the status: {error}": "تعذّرت قراءة الحالة: {error}",
    "the kiosk store is not open": "مخزن بيانات الكشك غير مفتوح",
    "REJECTED": "مرفوضة",
    "CONFLICT": "تعارض",
    # --- verdict headlines, as the kiosk services word them (rendered by `verdict_headline`)
    "Welcome!": "أهلاً وسهلاً!",
    "Re-entry: already scanned": "دخول مجدد: مُسحت من قبل",
    "Wrong event": "حدث خاطئ",
    "Ticket not on this device's list": "التذكرة ليست في قائمة هذا الجهاز",
    "Package purchase not on this device's list": "شراء الباقة ليس في قائمة هذا الجهاز",
    "Package not paid": "الباقة غير مدفوعة",
    "This ticket has been revoked": "أُلغيت هذه التذكرة",
    "This passport has been revoked": "أُلغي هذا الجواز",
    "This package purchase has been revoked": "أُلغي شراء هذه الباقة",
    "This is a ticket code": "هذا رمز تذكرة",
    "This is a passport code": "هذا رمز جواز",
    "This is a package purchase code": "هذا رمز شراء باقة",
    "Not a Soca Passport code": "ليس رمز Soca Passport",
    "Unknown code key: sync, then scan again": "مفتاح رمز غير معروف: زامن ثم امسح مجدداً",
    "Invalid code: forged or damaged": "رمز غير صالح: مزوَّر أو تالف",
    "Code refused": "رُفض الرمز",
    "Card full: confirm the prize": "البطاقة ممتلئة: أكّد تسليم الجائزة",
    "Card not full": "البطاقة غير ممتلئة",
    "Stamp added: prize ready!": "أُضيف الختم: الجائزة جاهزة!",
    "Offer not on this device's list": "العرض ليس في قائمة هذا الجهاز",
    "Offer of another branch": "عرض لفرع آخر",
    "No offer for this branch": "لا يوجد عرض لهذا الفرع",
    "Choose an offer first": "اختر عرضاً أولاً",
    "Recent activity": "النشاط الأخير",
    "Prize given": "سُلِّمت الجائزة",
    "Stamp": "ختم",
    "No stamps or prizes yet on this tablet.": "لا أختام ولا جوائز بعد على هذا الجهاز.",
    "Undo stamp": "تراجع عن الختم",
    "Stamp undone": "أُلغي الختم",
    "Add another stamp?": "إضافة ختم آخر؟",
    "Yes, add another": "نعم، أضف ختماً آخر",
    "Give {prize} to {who}?": "هل تُسلَّم {prize} إلى {who}؟",
    "the prize": "الجائزة",
    "Customer": "العميل",
    "Prize: {prize}": "الجائزة: {prize}",
    "Confirm prize given:\n{prize}": "أكّد تسليم الجائزة:\n{prize}",
    "This card was stamped just now.": "خُتمت هذه البطاقة للتو.",
    "Found by search: scan their pass to stamp it.": "وُجد بالبحث: امسح بطاقته لإضافة ختم.",
    "Phone dead? Search by name or @handle": "الهاتف مطفأ؟ ابحث بالاسم أو @المعرّف",
    "Unnamed customer": "عميل بلا اسم",
    "No cardholder found.": "لم يُعثر على حامل بطاقة.",
    "No recent stamp to undo": "لا ختم حديث للتراجع عنه",
    # Other screens append their entries below, each in its own commented block.
    # --- promoter review (kiosk/ui/attendance.py)
    "Soca Passport — promoter review": "Soca Passport — مراجعة المنظِّم",
    "<b>Review</b> · attendance of your events": "<b>المراجعة</b> · الحضور في فعالياتك",
    "Attendance": "الحضور",
    "Sync": "المزامنة",
    "Loading…": "جارٍ التحميل…",
    "As of last sync {time}": "حسب آخر مزامنة {time}",
    "Not synced yet": "لم تتم المزامنة بعد",
    "Export CSV…": "تصدير CSV…",
    "Export attendance": "تصدير الحضور",
    "CSV files (*.csv)": "ملفات CSV (*.csv)",
    "Exporting…": "جارٍ التصدير…",
    "Saved {rows} rows to {path}": "حُفظ {rows} صفاً في {path}",
    "Cannot export: {error}": "تعذّر التصدير: {error}",
    "Events": "الفعاليات",
    "Tickets": "التذاكر",
    "Arrived": "حضروا",
    "No-shows": "لم يحضروا",
    "Re-entries": "دخول مجدد",
    "Refused": "مرفوضة",
    "Fans": "المعجبون",
    "Superfans": "المعجبون الأوفياء",
    "Arrivals over time:": "الوصول عبر الوقت:",
    "Arrivals": "الوصول",
    "{event}: arrivals per {minutes} min": "{event}: الوصول كل {minutes} دقيقة",
    "Busiest: {time} ({count})": "الأكثر ازدحاماً: {time} ({count})",
    "No arrivals yet": "لا وصول بعد",
    "Event": "الفعالية",
    "Date": "التاريخ",
    "Country": "البلد",
    "Circuit": "موسم الكرنفال",
    "Countries": "البلدان",
    "Circuits": "مواسم الكرنفال",
    "Handle": "المعرّف",
    "Name": "الاسم",
    "Tier": "المستوى",
    "Unknown": "غير معروف",
    # --- setup screen (kiosk/ui/setup.py) and the kiosk-mode lock's wait
    "Soca Passport — set up this kiosk": "Soca Passport — إعداد هذا الكشك",
    "Set up this kiosk": "إعداد هذا الكشك",
    "1. Pair": "١. الاقتران",
    "2. Mode and scope": "٢. الوضع والنطاق",
    "3. Sync": "٣. المزامنة",
    "Server": "الخادم",
    "Pairing code": "رمز الاقتران",
    "Device name": "اسم الجهاز",
    "Pair this kiosk": "اقرن هذا الكشك",
    "Scan pairing QR": "امسح رمز QR للاقتران",
    "Stop camera": "أوقف الكاميرا",
    "Hold the pairing QR up to the camera": "اعرض رمز QR للاقتران أمام الكاميرا",
    "Ask HQ, your promoter or branch manager for a pairing code.": (
        "اطلب رمز الاقتران من الإدارة أو من المنظِّم أو من مدير الفرع."
    ),
    "Pairing…": "جارٍ الاقتران…",
    "✔ Paired as a {role} device; downloaded {rows} row(s).": (
        "✔ تم الاقتران كجهاز {role}؛ نُزِّل {rows} صفاً."
    ),
    "Paired, but the first sync failed: {error}": "تم الاقتران، لكن فشلت المزامنة الأولى: {error}",
    "Sync failed: {error}": "فشلت المزامنة: {error}",
    "Not paired yet.": "لم يتم الاقتران بعد.",
    "Paired as {name}, a {role} device, with {server}.": (
        "مقترن باسم {name}، جهاز {role}، مع {server}."
    ),
    "Mode": "الوضع",
    "Gate": "البوابة",
    "Offer": "العرض",
    "Promoter": "المنظِّم",
    "e.g. Gate 2": "مثلاً: البوابة ٢",
    "Door: scan tickets at a gate": "المدخل: مسح التذاكر عند البوابة",
    "Prize: stamp cards and give prizes": "الجوائز: أختام البطاقات وتسليم الجوائز",
    "Review: attendance and sync problems": "المراجعة: الحضور ومشكلات المزامنة",
    "The only active offer": "العرض النشط الوحيد",
    "Save": "حفظ",
    "Saving…": "جارٍ الحفظ…",
    "Kiosk mode": "وضع الكشك",
    "Kiosk mode: off.": "وضع الكشك: مُطفأ.",
    "Kiosk mode: off. Set a PIN to open full screen.": (
        "وضع الكشك: مُطفأ. عيّن رمز PIN ليفتح بملء الشاشة."
    ),
    "Pair this kiosk first, then set a PIN for kiosk mode.": (
        "اقرن هذا الجهاز أولاً، ثم عيّن رمز PIN لوضع الكشك."
    ),
    "New PIN": "رمز PIN الجديد",
    "PIN again": "رمز PIN مرة أخرى",
    "Set PIN": "تعيين رمز PIN",
    "Turn kiosk mode off": "أطفئ وضع الكشك",
    "✔ PIN set: `soca-kiosk run` opens full screen and asks for it to leave.": (
        "✔ عُيِّن رمز PIN: يفتح `soca-kiosk run` بملء الشاشة ويطلبه للخروج."
    ),
    "✔ Kiosk mode is off.": "✔ وضع الكشك مُطفأ.",
    "✔ Saved: `soca-kiosk run` opens this mode.": "✔ حُفظ: يفتح `soca-kiosk run` هذا الوضع.",
    "Kiosk mode: on — a PIN is needed to leave the screen.": (
        "وضع الكشك: مفعّل — يلزم الرمز السري لمغادرة الشاشة."
    ),
    "Syncing…": "جارٍ المزامنة…",
    "● Revoked: pair again": "● الجهاز ملغى: أعد الاقتران",
    "Wrong PIN. Too many tries: wait {seconds} s.": (
        "رمز سري خاطئ. محاولات كثيرة: انتظر {seconds} ث."
    ),
}

# Point tiers (seed 000 names, which have no Arabic in the seeds).
POINT_TIERS_AR: dict[str, str] = {
    "BRONZE": "برونزي",
    "SILVER": "فضي",
    "GOLD": "ذهبي",
    "ELITE": "النخبة",
}

# One Arabic sentence per reason, with the same {placeholders} as `core.reasons.explain`.
ARABIC_REASONS: dict[Reason, str] = {
    Reason.BAD_FORMAT: "هذا ليس رمز Soca Passport.",
    Reason.UNKNOWN_KEY: "هذا الرمز موقَّع بمفتاح لا يعرفه هذا الجهاز؛ زامن ثم حاول مجدداً.",
    Reason.BAD_SIGNATURE: "توقيع هذا الرمز غير صالح: قد يكون مزوَّراً أو تالفاً.",
    Reason.WRONG_KIND: "هذا رمز {actual}، وليس رمز {expected}.",
    Reason.WRONG_EVENT: "هذه التذكرة لحدث آخر{event_suffix}.",
    Reason.REVOKED: "هذا رمز {what} ملغى.",
    Reason.UNKNOWN_TICKET: "هذه التذكرة ليست في قائمة هذا الحدث.",
    Reason.ALREADY_SCANNED: "مُسحت من قبل في {when} عند {gate}{device_suffix}.",
    Reason.EVENT_NOT_ENABLED: "هذا الحدث غير مفعَّل في Soca Passport: لا ختم.",
    Reason.UNKNOWN_OFFER: "عرض بطاقة الأختام هذا غير معروف.",
    Reason.UNKNOWN_PASSPORT: "هذا الجواز غير معروف.",
    Reason.WRONG_BRANCH: "هذا العرض لا يتبع هذا الفرع.",
    Reason.CARD_FULL: "البطاقة ممتلئة ({current} من {max}): أكّد تسليم الجائزة أولاً.",
    Reason.NOT_ENOUGH_STAMPS: "{current} من {max} أختام فقط: الجائزة تتطلب بطاقة ممتلئة.",
    Reason.PASS_EXPIRED: "انتهت صلاحية هذه البطاقة بعد {days} يوماً دون مسح.",
    Reason.UNKNOWN_PURCHASE: "شراء الباقة هذا غير معروف.",
    Reason.ALREADY_ACTIVATED: "فُعِّلت هذه الباقة من قبل {when}.",
    Reason.PURCHASE_NOT_PAID: "حالة شراء هذه الباقة: {status}، وليست مدفوعة.",
    Reason.INVALID_OP: "هذه العملية غير سليمة: {detail}.",
    Reason.OUT_OF_SCOPE: "لا يحق لهذا الجهاز فعل ذلك لهذا العنصر ({what}).",
    Reason.DUPLICATE_OP: "وصلت هذه العملية من قبل.",
    Reason.DUPLICATE_OP_ID: (
        "عملية أخرى في هذه الدفعة تحمل المعرِّف نفسه بمحتوى مختلف: لكل عملية معرِّف خاص بها."
    ),
    Reason.IMPLAUSIBLE_TIME: (
        "وقت هذه العملية ({when}) غير معقول: تحقّق من تاريخ الجهاز وساعته ثم زامن مجدداً."
    ),
    Reason.UNKNOWN_STAMP: (
        "لا يوجد في هذه البطاقة ختم بهذا المعرِّف لسحبه (ربما لم يصل إلى الخادم بعد)."
    ),
    Reason.STAMP_UNDONE: "سُحب هذا الختم بتصحيح ({when}).",
    Reason.ALREADY_UNDONE: "سُحب هذا الختم من قبل ({when}).",
    Reason.PACKAGE_NOT_FOUND: "الباقة غير موجودة.",
    Reason.PACKAGE_EXPIRED: "الباقة خارج فترة بيعها.",
    Reason.PACKAGE_SOLD_OUT: "نفدت الباقة.",
    Reason.PACKAGE_INACTIVE: "الباقة غير معروضة للبيع.",
    Reason.PACKAGE_MAX_PER_USER_EXCEEDED: "اشتريت الحد الأقصى المسموح من هذه الباقة.",
    Reason.PACKAGE_INVALID_PRICE: "سعر الباقة غير صالح: {detail}.",
    Reason.PACKAGE_INVALID_QUANTITY: "كمية الباقة غير صالحة: {detail}.",
    Reason.REWARD_NOT_FOUND: "المكافأة غير موجودة.",
    Reason.REWARD_EXPIRED: "المكافأة خارج فترة سريانها.",
    Reason.REWARD_DEPLETED: "مُنحت المكافأة بالعدد الأقصى المسموح به.",
    Reason.REWARD_INACTIVE: "المكافأة غير مفعَّلة.",
    Reason.REWARD_MAX_REDEMPTIONS_EXCEEDED: "حصل هذا العميل على هذه المكافأة أقصى عدد من المرات.",
    Reason.REWARD_USER_NOT_QUALIFIED: "العميل غير مؤهَّل لهذه المكافأة بعد.",
    Reason.REWARD_INVALID_AMOUNT: "قيمة المكافأة غير صالحة: {detail}.",
}

# The English fragments the services put in a reason's context, by placeholder.
_KINDS_AR = {"ticket": "تذكرة", "passport": "جواز", "package purchase": "شراء باقة"}
_CONTEXT_AR: dict[str, dict[str, str]] = {
    "device_suffix": {
        " by this device": " بواسطة هذا الجهاز",
        " by another device": " بواسطة جهاز آخر",
    },
    "gate": {"an unknown gate": "بوابة غير معروفة"},
    "status": {
        "pending": "قيد الانتظار",
        "refunded": "مستردة",
        "cancelled": "ملغاة",
        "failed": "فاشلة",
    },
}

# Headlines that carry a value: the English shape → the Arabic template (same group names).
HEADLINE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"Welcome, (?P<name>.+)!"), "أهلاً وسهلاً، {name}!"),
    (re.compile(r"(?P<package>.+): bracelets already given"), "{package}: سُلِّمت الأساور من قبل"),
    (
        re.compile(r"(?P<package>.+) activated: hand over the bracelets"),
        "فُعِّلت {package}: سلِّم الأساور",
    ),
    (re.compile(r"Prize confirmed: enjoy!"), "تم تأكيد الجائزة: استمتع!"),
    (re.compile(r"Revoked ticket: (?P<who>.+)"), "تذكرة ملغاة: {who}"),
    (re.compile(r"Prize confirmed: (?P<prize>.+)!"), "تم تأكيد الجائزة: {prize}!"),
)

_current = Language.ENGLISH


def current_language() -> Language:
    """The language strings are currently rendered in."""
    return _current


def is_arabic() -> bool:
    """True while the kiosk speaks Arabic (and lays out right to left)."""
    return _current is Language.ARABIC


def set_language(language: Language | str) -> None:
    """Switch the catalogue and the application's layout direction (Arabic is right-to-left)."""
    global _current  # one process-wide UI language, like Qt's own translator
    _current = Language(language)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        direction = (
            Qt.LayoutDirection.RightToLeft
            if _current is Language.ARABIC
            else Qt.LayoutDirection.LeftToRight
        )
        app.setLayoutDirection(direction)


def tr(text: str, /, **values: object) -> str:
    """`text` in the current language, with `{placeholders}` filled from `values`."""
    template = ARABIC.get(text, text) if _current is Language.ARABIC else text
    return template.format(**values) if values else template


# --------------------------------------------------------------------------- verdicts


class _Blank(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return ""


def placeholders(template: str) -> set[str]:
    """The `{names}` a template fills."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _arabic_context(context: Mapping[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in context.items():
        text = str(value)
        if key in ("actual", "expected", "what"):
            text = " أو ".join(_KINDS_AR.get(part, part) for part in text.split(" or "))
        elif key == "when" and text.startswith("at "):
            text = f"في {text.removeprefix('at ')}"
        else:
            text = _CONTEXT_AR.get(key, {}).get(text, text)
        out[key] = text
    return out


def reason_text(reason: Reason, context: Mapping[str, object], english: str | None) -> str:
    """A reason's sentence in the current language; `english` is the services' own wording."""
    if _current is not Language.ARABIC or reason not in ARABIC_REASONS:
        return english or ""
    return ARABIC_REASONS[reason].format_map(_Blank(_arabic_context(context)))


def verdict_reason(verdict: Verdict) -> str:
    """Why a verdict is amber or red, in the current language ("" when there is no reason)."""
    if verdict.reason is None:
        return verdict.explanation or ""
    return reason_text(verdict.reason, verdict.context, verdict.explanation)


def server_reason(reason: str | None, message: str | None) -> str:
    """A server's reason for an op it did not apply, in the current language.

    In Arabic a known reason code whose sentence needs no details is shown from
    `ARABIC_REASONS`; otherwise the server's own words (they carry the details).
    """
    words = message or reason or ""
    if _current is not Language.ARABIC or reason not in set(Reason):
        return words
    arabic = ARABIC_REASONS.get(Reason(reason), "")
    return words if not arabic or placeholders(arabic) else arabic


def card_summary(card: CardView) -> str:
    """A card's line ("4 of 5 • 🥇 Gold Member • 7× completed") in the current language."""
    return card.summary_ar if _current is Language.ARABIC and card.summary_ar else card.summary


def verdict_note(verdict: Verdict) -> str:
    """A verdict's note in the current language ("" when there is none)."""
    note = verdict.note or ""
    return ARABIC.get(note, note) if _current is Language.ARABIC else note


def next_tier_text(card: CardView) -> str:
    """What the card's next tier needs ("2 more for Gold Member") in the current language."""
    arabic = _current is Language.ARABIC and card.next_tier_ar
    return card.next_tier_ar if arabic else card.next_tier


def verdict_headline(verdict: Verdict) -> str:
    """A verdict's headline in the current language (the English one when no entry fits)."""
    headline = verdict.headline
    if _current is not Language.ARABIC:
        return headline
    if headline in ARABIC:
        return ARABIC[headline]
    card = verdict.card
    if card is not None and card.summary_ar:
        if headline == card.summary:
            return card.summary_ar
        if headline == f"Stamp added: {card.summary}":
            return f"أُضيف الختم: {card.summary_ar}"
        if headline == f"Stamp undone: {card.summary}":
            return f"أُلغي الختم: {card.summary_ar}"
    for pattern, template in HEADLINE_PATTERNS:
        match = pattern.fullmatch(headline)
        if match is not None:
            return template.format(**match.groupdict())
    return headline


def tier_name(tier: str | None, tier_ar: str | None = None) -> str:
    """A tier as shown: a stamp-card tier's own Arabic label, or a point tier's name."""
    if tier is None:
        return ""
    if _current is Language.ARABIC:
        if tier_ar:
            return tier_ar
        return POINT_TIERS_AR.get(tier.upper(), tier)
    return tier
