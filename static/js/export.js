// A batch being made by the worker: show its progress (n of N) and reload the page, which
// then offers the file or says why it failed. Without this script the page has a refresh link.
(function () {
  "use strict";
  var box = document.getElementById("export");
  if (!box || box.dataset.pending !== "1") { return; }
  var done = document.getElementById("export-done");
  var total = document.getElementById("export-total");
  var label = document.getElementById("export-label");
  var bar = document.getElementById("export-progress");
  function poll() {
    fetch(box.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data === null) { window.setTimeout(poll, 5000); return; }
        done.textContent = data.done;
        total.textContent = data.total;
        label.textContent = data.label;
        bar.max = data.total || 1;
        bar.value = data.done;
        if (data.pending) { window.setTimeout(poll, 2000); } else { window.location.reload(); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
}());
