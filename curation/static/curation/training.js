// Training run page: poll the run's progress every 3 s until it has finished.
(function () {
  "use strict";
  var section = document.getElementById("run");
  if (!section || section.dataset.finished === "1") return;
  var url = section.dataset.progressUrl;
  function render(state) {
    document.getElementById("run-bar").style.width = state.percent + "%";
    document.getElementById("run-percent").textContent = Math.round(state.percent) + "%";
    document.getElementById("run-step").textContent = state.current_step || "waiting for a worker";
    var status = document.getElementById("run-status");
    status.textContent = state.status_display;
    status.className = "badge " + state.status;
    document.getElementById("run-log").textContent = state.log_tail || "(no output yet)";
    var error = document.getElementById("run-error");
    error.hidden = !state.error;
    error.textContent = state.error;
    var versions = document.getElementById("run-versions");
    if (state.versions.length) {
      versions.textContent = "";
      state.versions.forEach(function (version, index) {
        var link = document.createElement("a");
        link.href = "/models/" + version.id + "/";
        link.textContent = version.name;
        if (index) versions.appendChild(document.createTextNode(", "));
        versions.appendChild(link);
      });
    }
  }
  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (state) { render(state); if (!state.finished) setTimeout(poll, 3000); })
      .catch(function () { setTimeout(poll, 6000); });
  }
  setTimeout(poll, 3000);
})();
