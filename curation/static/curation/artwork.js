// Artwork page: click the painting to see it at full resolution; click again or press Esc to close.
(function () {
  "use strict";
  var zoom = document.getElementById("zoom");
  var image = document.getElementById("artwork-img");
  if (!zoom || !image) return;
  image.addEventListener("click", function () { zoom.classList.add("open"); });
  zoom.addEventListener("click", function () { zoom.classList.remove("open"); });
  document.addEventListener("keydown", function (event) { if (event.key === "Escape") zoom.classList.remove("open"); });
})();
