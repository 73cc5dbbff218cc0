// GP map (Leaflet, served locally): the markers of `data-markers-url` (carte.json, with the
// list's filters) on tiles from `data-tile-url`, or on a plain background when it is empty.
// An enhancement only: the list beside it holds the same information and works without it.
(function () {
  "use strict";
  var container = document.querySelector("[data-map]");
  if (!container || typeof L === "undefined" || !window.fetch) {
    return;
  }

  function popupContent(marker) {
    // Built with text nodes: names and communes are never read as HTML.
    var box = document.createElement("div");
    var name = document.createElement("strong");
    name.textContent = marker.name;
    box.appendChild(name);
    var lines = [marker.commune, "Nouveaux patients : " + marker.accepting];
    if (marker.monthly_capacity !== undefined && marker.monthly_capacity !== null) {
      lines.push("Environ " + marker.monthly_capacity + " par mois");
    }
    lines.forEach(function (text) {
      box.appendChild(document.createElement("br"));
      box.appendChild(document.createTextNode(text));
    });
    if (marker.anchor && document.getElementById(marker.anchor)) {
      var link = document.createElement("a");
      link.href = "#" + marker.anchor;
      link.textContent = "Voir dans la liste";
      link.addEventListener("click", function () {
        document.getElementById(marker.anchor).focus();
      });
      box.appendChild(document.createElement("br"));
      box.appendChild(link);
    }
    return box;
  }

  // Icon URLs from {% static %}: Leaflet's guess from leaflet.css fails on hashed file names.
  L.Icon.Default.imagePath = "";
  L.Icon.Default.mergeOptions({
    iconUrl: container.getAttribute("data-icon"),
    iconRetinaUrl: container.getAttribute("data-icon-retina"),
    shadowUrl: container.getAttribute("data-icon-shadow"),
  });
  container.hidden = false;
  var map = L.map(container, { scrollWheelZoom: false });
  var centre = (container.getAttribute("data-centre") || "50.43,2.78").split(",").map(Number);
  map.setView(centre, 11);
  var tileUrl = container.getAttribute("data-tile-url");
  if (tileUrl) {
    L.tileLayer(tileUrl, {
      maxZoom: 19,
      attribution: container.getAttribute("data-tile-attribution") || "",
      // The site sends no Referer to other origins; tile servers ask for one.
      referrerPolicy: "strict-origin-when-cross-origin",
    }).addTo(map);
  } else {
    container.classList.add("map-plain");
  }

  fetch(container.getAttribute("data-markers-url"), {
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
      var points = [];
      data.markers.forEach(function (marker) {
        var label = marker.name + " — " + marker.commune;
        L.marker([marker.lat, marker.lon], { title: label, alt: label, keyboard: true })
          .bindPopup(popupContent(marker))
          .addTo(map);
        points.push([marker.lat, marker.lon]);
      });
      if (points.length) {
        map.fitBounds(points, { padding: [30, 30], maxZoom: 14 });
      }
      container.setAttribute("data-map-ready", String(points.length));
    })
    .catch(function () {
      // The list stays; the map is only an enhancement.
      container.hidden = true;
    });
})();
