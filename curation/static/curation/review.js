// Review queue keyboard: 1/2/3 accept a top-3 style, T or / opens the type-ahead, N flags, S skips, U undoes.
(function () {
  "use strict";
  var submitting = false;
  var search = document.getElementById("style-search");
  var options = document.getElementById("style-options");
  var hiddenStyle = document.getElementById("correct-style");
  var selected = -1;

  function submit(id) {
    var form = document.getElementById(id);
    if (!form || submitting) return;
    submitting = true; // one decision per painting, even when a key is held down
    form.submit();
  }

  function visibleOptions() {
    return Array.prototype.filter.call(options.querySelectorAll("li"), function (li) { return !li.hidden; });
  }

  function highlight(index) {
    options.querySelectorAll("li").forEach(function (li) {
      li.classList.remove("selected");
      li.removeAttribute("aria-selected");
    });
    var items = visibleOptions();
    if (!items.length) { selected = -1; return; }
    selected = Math.max(0, Math.min(index, items.length - 1));
    items[selected].classList.add("selected");
    items[selected].setAttribute("aria-selected", "true");
    items[selected].scrollIntoView({ block: "nearest" });
  }

  function filter() {
    var text = search.value.trim().toLowerCase();
    options.querySelectorAll("li").forEach(function (li) {
      li.hidden = text !== "" && li.dataset.search.indexOf(text) === -1;
    });
    options.hidden = text === "";
    highlight(0);
  }

  function choose(li) {
    if (!li) return;
    hiddenStyle.value = li.dataset.code;
    submit("correct-form");
  }

  if (search) {
    search.addEventListener("input", filter);
    search.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(selected + 1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(selected - 1); }
      else if (event.key === "Enter") { event.preventDefault(); choose(visibleOptions()[selected]); }
      else if (event.key === "Escape") { search.value = ""; filter(); search.blur(); }
    });
    options.addEventListener("click", function (event) { choose(event.target.closest("li")); });
  }

  document.addEventListener("keydown", function (event) {
    if (event.target.matches("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) return;
    var key = event.key.toLowerCase();
    if (key === "1" || key === "2" || key === "3") { event.preventDefault(); submit("choice-" + key); }
    else if (key === "n") { event.preventDefault(); submit("flag-form"); }
    else if (key === "s") { event.preventDefault(); submit("skip-form"); }
    else if (key === "u") { event.preventDefault(); submit("undo-form"); }
    else if ((key === "t" || key === "/") && search) { event.preventDefault(); search.focus(); }
  });
})();
