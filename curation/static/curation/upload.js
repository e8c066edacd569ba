// Upload page: one XHR per file (so each has its own progress bar), then poll until predictions arrive.
(function () {
  "use strict";
  var list = document.getElementById("uploads");
  var dropzone = document.getElementById("dropzone");
  var input = document.getElementById("file-input");
  var summary = document.getElementById("upload-summary");
  var csrf = document.querySelector("input[name=csrfmiddlewaretoken]").value;
  var uploadUrl = list.dataset.uploadUrl;
  var statusUrl = list.dataset.statusUrl;
  var pollMax = parseInt(list.dataset.pollMax, 10);
  var CONCURRENT = 3;
  var queue = [];
  var active = 0;
  var waiting = {}; // artwork id -> rows waiting for a prediction
  var counts = { accepted: 0, duplicate: 0, rejected: 0, total: 0 };
  var pollTimer = null;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function updateSummary() {
    summary.textContent = counts.total + " file(s): " + counts.accepted + " new, " + counts.duplicate +
      " already there, " + counts.rejected + " refused";
  }

  function addRow(file) {
    var row = el("div", "upload-row");
    row.dataset.filename = file.name;
    var preview = el("div", "preview");
    var name = el("div", "name", file.name);
    name.title = file.name;
    var progress = el("div", "progress");
    var bar = el("div");
    progress.appendChild(bar);
    var result = el("div", "result muted", "Waiting…");
    result.setAttribute("data-testid", "result");
    row.appendChild(preview);
    row.appendChild(name);
    row.appendChild(progress);
    row.appendChild(result);
    list.appendChild(row);
    return { row: row, bar: bar, result: result, preview: preview };
  }

  function setResult(ui, text, state) {
    ui.result.textContent = "";
    ui.result.className = "result " + (state || "");
    if (text instanceof Node) ui.result.appendChild(text); else ui.result.textContent = text;
  }

  function send(item) {
    active += 1;
    var form = new FormData();
    form.append("file", item.file, item.file.name);
    var artist = document.getElementById("upload-artist").value.trim();
    var title = document.getElementById("upload-title").value.trim();
    if (artist) form.append("artist", artist);
    if (title) form.append("title", title);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", csrf);
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) item.ui.bar.style.width = Math.round(100 * event.loaded / event.total) + "%";
    };
    xhr.onload = function () {
      item.ui.bar.style.width = "100%";
      var body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
      if (!body) {
        item.ui.row.classList.add("rejected");
        setResult(item.ui, "Refused: the server answered " + xhr.status + ".", "rejected");
        counts.rejected += 1;
      } else if (body.result === "rejected") {
        item.ui.row.classList.add("rejected");
        setResult(item.ui, "Refused: " + body.message, "rejected");
        counts.rejected += 1;
      } else {
        var img = el("img");
        img.src = body.thumbnail;
        img.alt = "";
        item.ui.preview.appendChild(img);
        var link = el("a", null, body.result === "duplicate" ? "Duplicate of #" + body.artwork_id : "#" + body.artwork_id);
        link.href = body.url;
        var text = el("span");
        text.appendChild(link);
        text.appendChild(document.createTextNode(body.result === "duplicate" ? " — already in the collection; " : " stored; "));
        var status = el("span", "status", "waiting for the classifier…");
        text.appendChild(status);
        setResult(item.ui, text, body.result);
        item.ui.status = status;
        item.ui.row.dataset.artworkId = body.artwork_id;
        counts[body.result] += 1;
        (waiting[body.artwork_id] = waiting[body.artwork_id] || []).push(item.ui);
        schedulePoll();
      }
      updateSummary();
      done();
    };
    xhr.onerror = function () {
      item.ui.row.classList.add("rejected");
      setResult(item.ui, "The upload failed: the connection was lost.", "rejected");
      counts.rejected += 1;
      updateSummary();
      done();
    };
    setResult(item.ui, "Uploading…");
    xhr.send(form);
  }

  function done() {
    active -= 1;
    pump();
  }

  function pump() {
    while (active < CONCURRENT && queue.length) send(queue.shift());
  }

  function schedulePoll() {
    if (!pollTimer) pollTimer = setTimeout(poll, 700);
  }

  function describe(artwork) {
    if (artwork.status === "failed") return "Failed: " + artwork.failure_reason;
    if (!artwork.predicted_style) return artwork.status_display;
    return artwork.predicted_style + " (" + Math.round(artwork.confidence * 100) + "%) — " + artwork.status_display;
  }

  function poll() {
    pollTimer = null;
    var ids = Object.keys(waiting).slice(0, pollMax);
    if (!ids.length) return;
    fetch(statusUrl + "?ids=" + ids.join(","), { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (body) {
        (body.artworks || []).forEach(function (artwork) {
          if (!artwork.done) return;
          (waiting[artwork.id] || []).forEach(function (ui) {
            ui.status.textContent = describe(artwork);
            ui.status.className = "status prediction";
            ui.row.classList.add("done");
            ui.row.dataset.prediction = artwork.predicted_style || "";
          });
          delete waiting[artwork.id];
        });
      })
      .catch(function () { /* a failed poll is retried below */ })
      .then(function () { if (Object.keys(waiting).length) pollTimer = setTimeout(poll, 1500); });
  }

  function addFiles(files) {
    Array.prototype.forEach.call(files, function (file) {
      counts.total += 1;
      queue.push({ file: file, ui: addRow(file) });
    });
    updateSummary();
    pump();
  }

  dropzone.addEventListener("click", function () { input.click(); });
  dropzone.addEventListener("keydown", function (event) {
    if (event.target !== dropzone) return; // the folder button inside handles its own keys
    if (event.key === "Enter" || event.key === " ") { event.preventDefault(); input.click(); }
  });
  input.addEventListener("change", function () { addFiles(input.files); input.value = ""; });
  ["dragenter", "dragover"].forEach(function (type) {
    dropzone.addEventListener(type, function (event) { event.preventDefault(); dropzone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    dropzone.addEventListener(type, function (event) { event.preventDefault(); dropzone.classList.remove("over"); });
  });
  // A dropped folder arrives as one entry: walk it (and its sub-folders) and upload every file inside.
  function readEntry(entry, collected) {
    return new Promise(function (resolve) {
      if (entry.isFile) {
        entry.file(function (file) { collected.push(file); resolve(); }, function () { resolve(); });
      } else if (entry.isDirectory) {
        var reader = entry.createReader();
        var children = [];
        (function readBatch() {
          reader.readEntries(function (batch) {
            if (!batch.length) {
              Promise.all(children.map(function (child) { return readEntry(child, collected); })).then(resolve);
              return;
            }
            children = children.concat(Array.prototype.slice.call(batch));
            readBatch(); // readEntries returns at most 100 entries per call
          }, function () { resolve(); });
        })();
      } else {
        resolve();
      }
    });
  }

  dropzone.addEventListener("drop", function (event) {
    var items = event.dataTransfer.items;
    var entries = items ? Array.prototype.map.call(items, function (item) {
      return item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
    }) : [];
    if (!entries.length || entries.some(function (entry) { return !entry; }) ||
        !entries.some(function (entry) { return entry.isDirectory; })) {
      addFiles(event.dataTransfer.files);
      return;
    }
    var collected = [];
    Promise.all(entries.map(function (entry) { return readEntry(entry, collected); })).then(function () {
      collected.sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; });
      addFiles(collected);
    });
  });
  var folderInput = document.getElementById("folder-input");
  document.getElementById("choose-folder").addEventListener("click", function (event) {
    event.stopPropagation();
    folderInput.click();
  });
  folderInput.addEventListener("change", function () { addFiles(folderInput.files); folderInput.value = ""; });
})();
