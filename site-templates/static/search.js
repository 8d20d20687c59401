// Mounts Pagefind's search UI on the index page (a file, not an inline script: the pages'
// Content-Security-Policy runs only the site's own script files).
window.addEventListener("DOMContentLoaded", function () {
  if (!window.PagefindUI) return;
  new PagefindUI({ element: "#search", showSubResults: false, showImages: false, resetStyles: false,
    translations: { placeholder: "Search apps by name, purpose, team or README text" } });
  // give Pagefind's input the section's visible label
  var tries = 0;
  (function label() {
    var input = document.querySelector("#search input[type=text], #search input.pagefind-ui__search-input");
    if (input) { input.id = "q"; return; }
    if (tries++ < 100) requestAnimationFrame(label);
  })();
});
