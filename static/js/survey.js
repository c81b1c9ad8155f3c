// Re-assess the survey while the cadre types: the server runs the same
// eligibility engine on the unsaved form and returns the panel.
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  var panel = document.getElementById("eligibility");
  if (!form || !panel) { return; }
  var timer = null;
  var sequence = 0;
  function refresh() {
    var mine = ++sequence;
    fetch(panel.dataset.previewUrl, {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null && mine === sequence) { panel.innerHTML = html; } })
      .catch(function () { /* offline for a moment: the panel keeps its last figures */ });
  }
  function schedule() { clearTimeout(timer); timer = setTimeout(refresh, 350); }
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
})();
