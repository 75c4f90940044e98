// Admin pages (under a CSP without inline scripts): buttons marked data-grove-print print the page.
document.querySelectorAll("[data-grove-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
