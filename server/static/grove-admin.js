// Admin pages (under a CSP without inline scripts).
// Buttons marked data-grove-print print the page.
document.querySelectorAll("[data-grove-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
// A select marked data-grove-autosubmit submits its form when changed (the create page shows
// the chosen config's fields at once; without JavaScript its button does the same).
document.querySelectorAll("select[data-grove-autosubmit]").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});
