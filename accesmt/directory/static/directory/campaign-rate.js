// Campaign page: refresh the response rate every 30 s from `data-campaign-rate` (taux.json).
// The paragraph is aria-live: it is rewritten only when a figure changes, so that screen
// readers announce new answers and nothing else. Without JavaScript the page shows the
// figures of its last load.
(function () {
  "use strict";
  var box = document.querySelector("[data-campaign-rate]");
  if (!box || !window.fetch) {
    return;
  }
  var figure = box.querySelector("[data-response-rate]");
  var refreshed = box.querySelector("[data-refreshed]");
  var last = figure.textContent.trim();
  var PERIOD_MS = 30000;

  function refresh() {
    if (document.hidden) {
      return;
    }
    fetch(box.getAttribute("data-campaign-rate"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        var text =
          "Taux de réponse : " + data.answered + " / " + data.total + " (" + data.rate + " %)";
        if (text !== last) {
          last = text;
          figure.textContent = text;
          var now = new Date();
          var time = now.toLocaleTimeString("fr-FR", { hour: "2-digit", minute: "2-digit" });
          refreshed.textContent = "Mis à jour à " + time + ".";
          refreshed.hidden = false;
        }
      })
      .catch(function () {
        // Keep the figures shown; the next round tries again.
      });
  }

  window.setInterval(refresh, PERIOD_MS);
})();
