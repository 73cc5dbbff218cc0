// The queue's « Tout cocher sur cette page » box: shown only when this script runs (without
// JavaScript each request is checked by its own box).
(function () {
  "use strict";
  document.querySelectorAll("[data-queue-bulk]").forEach(function (form) {
    var all = form.querySelector("[data-check-all]");
    var label = form.querySelector("[data-check-all-label]");
    var boxes = Array.prototype.slice.call(form.querySelectorAll("[data-check]"));
    if (!all || !label || boxes.length === 0) {
      return;
    }
    label.hidden = false;
    function sync() {
      var checked = boxes.filter(function (box) { return box.checked; }).length;
      all.checked = checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
    });
    boxes.forEach(function (box) { box.addEventListener("change", sync); });
    sync();
  });
})();
