// Edit Offer → Loyalty Tiers: add and remove tier rows in place, and keep the card preview
// in step with the form (the server renders it; this posts the form and swaps the HTML in).
// Without JavaScript the Add/Remove buttons submit the form and the server redraws it.
(function () {
  "use strict";
  const form = document.getElementById("offer-form");
  if (!form) { return; }
  const rows = document.getElementById("tier-rows");
  const template = document.getElementById("tier-template");
  const preview = document.getElementById("preview");
  let timer = null;
  let sent = 0;

  function nextIndex() {
    let highest = -1;
    rows.querySelectorAll(".tier-row").forEach(function (row) {
      highest = Math.max(highest, Number(row.dataset.index));
    });
    return highest + 1;
  }

  function refresh() {
    const body = new FormData(form);
    for (const key of Array.from(body.keys())) {
      if (key.startsWith("tier_icon_file_")) { body.delete(key); }
    }
    const ticket = ++sent;
    fetch(form.dataset.preview, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null && ticket === sent) { preview.innerHTML = html; }
      })
      .catch(function () { /* offline: the preview stays as it was */ });
  }

  function soon() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 250);
  }

  form.addEventListener("input", soon);
  form.addEventListener("change", soon);
  form.addEventListener("click", function (event) {
    const button = event.target.closest("button");
    if (!button) { return; }
    if (button.id === "add-tier") {
      event.preventDefault();
      const html = template.innerHTML.split("__N__").join(String(nextIndex()));
      rows.insertAdjacentHTML("beforeend", html);
      soon();
    } else if (button.classList.contains("remove-tier")) {
      event.preventDefault();
      button.closest(".tier-row").remove();
      soon();
    }
  });
})();
