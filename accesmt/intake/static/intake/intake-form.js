// Intake form: move the focus to the error summary after a refused submission, so that
// screen-reader and keyboard users land on the list of what to correct.
(function () {
  "use strict";
  var summary = document.querySelector("[data-focus-on-load]");
  if (summary) {
    summary.focus();
  }
})();
