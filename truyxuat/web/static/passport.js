// Passport: shares a coarse place for the scan, only after the consumer presses the button.
"use strict";
(function () {
  var button = document.getElementById("share-place");
  if (!button || !navigator.geolocation) { if (button) button.hidden = true; return; }
  var box = document.getElementById("scan-warnings");
  button.addEventListener("click", function () {
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (pos) {
      // Rounded here too: the precise place never leaves the phone.
      var body = JSON.stringify({
        latitude: Math.round(pos.coords.latitude * 10) / 10,
        longitude: Math.round(pos.coords.longitude * 10) / 10
      });
      fetch("/passport/scans/" + button.dataset.scan + "/place" + location.search, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: body
      }).then(function (r) { return r.json(); }).then(function (data) {
        button.outerHTML = "<span class=\"pp-ok\" id=\"place-shared\">" + button.dataset.done.replace(/</g, "&lt;") + "</span>";
        (data.warnings || []).forEach(function (w) {
          if (document.querySelector("[data-warning='" + w.kind + "']")) return;
          var li = document.createElement("li");
          li.dataset.warning = w.kind;
          li.textContent = w.message;
          box.appendChild(li);
          box.hidden = false;
          var section = box.closest("section");
          section.classList.add("pp-bad");
          section.querySelector("h2").textContent = section.dataset.warningTitle;
        });
      });
    }, function () {
      button.outerHTML = "<span class=\"pp-muted\">" + button.dataset.denied.replace(/</g, "&lt;") + "</span>";
    }, { enableHighAccuracy: false, maximumAge: 600000, timeout: 15000 });
  });
})();
