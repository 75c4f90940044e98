/* A room's start form marked data-grove-autostart submits itself once the page has loaded:
 * the room's URL carried welcome_page_ok=1, with which oTree 6's welcome pages send a visitor
 * on and oTree seats them at once. The seat is still taken by this POST, so a link preview
 * robot that only fetches the URL takes none. */
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-grove-autostart]");
  if (form) {
    form.submit();
  }
});
