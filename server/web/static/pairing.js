// Counts a pairing code down to its expiry; at zero it says so (the code no longer works).
(function () {
  "use strict";
  const box = document.getElementById("pairing");
  if (!box) { return; }
  const label = document.getElementById("pairing-countdown");
  const deadline = Date.now() + 1000 * Number(box.dataset.secondsLeft || 0);
  function tick() {
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    if (left === 0) {
      label.textContent = "Expired: make a new code.";
      box.classList.add("expired");
      return;
    }
    const minutes = Math.floor(left / 60);
    const seconds = String(left % 60).padStart(2, "0");
    label.textContent = "Expires in " + minutes + ":" + seconds;
    window.setTimeout(tick, 1000);
  }
  tick();
})();
