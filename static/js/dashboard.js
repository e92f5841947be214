// Progress of a dashboard recalculation: polls the status address and updates the
// progress bar; reloads the page when the run finishes so the new figures show.
// Without JavaScript the page offers a "Check progress" link instead.
const container = document.querySelector("[data-rollup-status-url]");
const bar = document.getElementById("rollup-progress");
const text = document.getElementById("rollup-status-text");

async function poll() {
  try {
    const response = await fetch(container.dataset.rollupStatusUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) return;
    const status = await response.json();
    if (bar) {
      bar.value = status.progress;
      bar.textContent = `${status.progress}%`;
    }
    if (text) {
      text.textContent = `Recalculation ${status.status_label.toLowerCase()}: ${status.progress}%` +
        (status.step ? ` (${status.step})` : "");
    }
    if (!status.active) {
      window.location.reload();
      return;
    }
  } catch {
    // A dropped request is retried on the next tick.
  }
  window.setTimeout(poll, 3000);
}

if (container && bar) {
  window.setTimeout(poll, 2000);
}
