"""The kiosk's named operations, the only calls screens and the CLI make.

`DoorService` (scan, check_in), `TicketSearch` (search), `PrizeService`
(look_up, add_stamp, confirm_prize, list_offers), `AttendanceService`
(get_review, list_records, export_csv, write_csv: a promoter's attendance)
and `StatusService` (get_status, list_problems) are plain Python over
`kiosk.store`; each returns a value object (`Verdict`, `TicketMatch`,
`AttendanceReview`, `KioskStatus`) and belongs to the
thread that opened the store objects it was given.
"""
