// Small progressive enhancements; every page works without them (no inline script: the
// site's CSP allows scripts from 'self' only).
"use strict";

// <span data-countdown="600">10:00</span>: counts down from the seconds left when the page
// was made (the browser's own clock, so a skewed clock cannot shorten it), then says so.
function startCountdowns() {
  const started = Date.now();
  const clocks = Array.from(document.querySelectorAll("[data-countdown]"));
  if (!clocks.length) return;
  const tick = () => {
    const elapsed = Math.floor((Date.now() - started) / 1000);
    for (const clock of clocks) {
      const left = Number(clock.dataset.countdown) - elapsed;
      if (left <= 0) {
        clock.textContent = clock.dataset.expiredText || "expired";
        clock.closest("[data-expiring]")?.classList.add("expired");
        continue;
      }
      const minutes = Math.floor(left / 60);
      const seconds = String(left % 60).padStart(2, "0");
      clock.textContent = `${minutes}:${seconds}`;
    }
  };
  tick();
  setInterval(tick, 1000);
}

// <time datetime="2026-02-14T21:00:00+00:00" data-local>14 Feb 2026, 21:00 UTC</time>:
// shown on the reader's own clock, with the zone named.
function showLocalTimes() {
  const format = new Intl.DateTimeFormat(undefined, {
    day: "numeric", month: "short", year: "numeric",
    hour: "2-digit", minute: "2-digit", timeZoneName: "short",
  });
  for (const element of document.querySelectorAll("time[data-local]")) {
    const moment = new Date(element.getAttribute("datetime"));
    if (!Number.isNaN(moment.getTime())) {
      element.title = element.textContent;
      element.textContent = format.format(moment);
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  startCountdowns();
  showLocalTimes();
});
