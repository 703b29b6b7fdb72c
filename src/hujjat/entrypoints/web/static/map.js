// The incidents map: Leaflet over country outlines shipped with the app (no tile server).
(function () {
  "use strict";
  var el = document.getElementById("map");
  if (!el || !window.L) { return; }
  var map = L.map(el, { worldCopyJump: true, attributionControl: true }).setView([50, 60], 3);
  map.attributionControl.addAttribution("Natural Earth via world-atlas");
  function text(value) { var span = document.createElement("span"); span.textContent = value == null ? "" : String(value); return span; }
  fetch(el.dataset.basemap, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (geo) {
    L.geoJSON(geo, { style: { color: "#7a8a99", weight: 0.7, fillColor: "#e9eef2", fillOpacity: 1 } }).addTo(map);
    return fetch(el.dataset.incidents, { credentials: "same-origin" });
  }).then(function (r) { return r.json(); }).then(function (data) {
    var layer = L.geoJSON(data, {
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 6, color: "#b03a2e", weight: 1, fillOpacity: 0.7 });
      },
      onEachFeature: function (feature, marker) {
        var p = feature.properties || {};
        var box = document.createElement("div");
        var link = document.createElement("a");
        link.href = "/incidents/" + encodeURIComponent(p.id || "");
        link.textContent = p.title || p.id || "";
        box.appendChild(link);
        box.appendChild(document.createElement("br"));
        box.appendChild(text((p.start || "") + " · " + (p.type || "") + " · " + (p.state || "")));
        marker.bindPopup(box);
      }
    }).addTo(map);
    if (data.features && data.features.length) { map.fitBounds(layer.getBounds().pad(0.3), { maxZoom: 7 }); }
    el.dataset.loaded = String(data.features ? data.features.length : 0);
  });
})();
