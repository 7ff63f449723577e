"""Pure shared rules, reason codes, wire models and the QR token codec (no Qt, SQL or HTTP)."""
