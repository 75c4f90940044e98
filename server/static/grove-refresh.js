// Admin pages (under a CSP without inline scripts): an element marked data-grove-refresh is
// reloaded in place every data-grove-refresh-ms milliseconds (the Data tab's table): the page
// is fetched again and the element swapped for its new version. Nothing runs from the fetched
// page (DOMParser does not run scripts).
(function () {
  var element = document.querySelector("[data-grove-refresh][id]");
  if (!element) { return; }
  var interval = parseInt(element.getAttribute("data-grove-refresh-ms"), 10) || 3000;
  var id = element.id;

  function refresh() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(id);
        var current = document.getElementById(id);
        if (fresh && current) { current.replaceWith(document.importNode(fresh, true)); }
      })
      .catch(function () { /* the next refresh tries again */ })
      .then(function () { window.setTimeout(refresh, interval); });
  }
  window.setTimeout(refresh, interval);
})();
