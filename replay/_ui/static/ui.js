// Live parts of the pages: the run counts on the runs list, and an open run's page,
// refreshed from the server's event stream. Everything shown comes from the server,
// already escaped; this script only swaps server-rendered HTML in.
"use strict";

function refreshCounts(section) {
  fetch(section.dataset.live, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : null))
    .then((counts) => {
      if (!counts) return;
      for (const el of section.querySelectorAll("b[data-status]")) {
        const value = counts[el.dataset.status];
        if (value !== undefined) el.textContent = String(value);
      }
    })
    .catch(() => {});
}

function followRun(live) {
  const source = new EventSource(live.dataset.stream);
  const refresh = () =>
    fetch(live.dataset.refresh, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : null))
      .then((html) => {
        if (html === null) return;
        const doc = new DOMParser().parseFromString(html, "text/html");
        live.replaceChildren(...doc.body.childNodes);
        live.dataset.version = String(Number(live.dataset.version || "0") + 1);
      });
  source.addEventListener("changed", refresh);
  source.addEventListener("closed", () => { source.close(); refresh(); });
}

document.addEventListener("DOMContentLoaded", () => {
  const counts = document.querySelector("[data-live]");
  if (counts) setInterval(() => refreshCounts(counts), 2000);
  const live = document.querySelector("#live[data-stream]");
  if (live) followRun(live);
});
