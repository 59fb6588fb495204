// Polls a running import's status and moves its progress bar; reloads for the report when done.
(function () {
  "use strict";
  var section = document.getElementById("import-job");
  if (!section) return;
  var bar = document.getElementById("import-bar");
  var done = document.getElementById("import-done");
  function poll() {
    fetch(section.dataset.status, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (job) {
        if (!job) return;
        bar.value = job.done;
        if (done) done.textContent = job.done;
        if (job.state === "running") setTimeout(poll, 1000);
        else window.location.reload();
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
