// Click a figure to see it large (plusdig.sphinx.tablefig): its full-size file in a dialog over the
// page. Escape, the button or a click on the image closes it. Without JavaScript the link
// opens the file itself.
(function () {
  "use strict";
  function open(link, img) {
    var dialog = document.createElement("dialog");
    dialog.className = "plusdig-figure-dialog";
    dialog.setAttribute("aria-label", img.getAttribute("alt") || "Figur");
    var close = document.createElement("button");
    close.type = "button";
    close.textContent = "Luk";
    var big = document.createElement("img");
    big.src = link.getAttribute("href");
    big.alt = img.getAttribute("alt") || "";
    dialog.appendChild(close);
    dialog.appendChild(big);
    document.body.appendChild(dialog);
    function done() { dialog.close(); }
    close.addEventListener("click", done);
    big.addEventListener("click", done);
    dialog.addEventListener("close", function () { dialog.remove(); link.focus(); });
    dialog.showModal();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("figure a.image-reference").forEach(function (link) {
      var img = link.querySelector("img");
      if (!img || typeof HTMLDialogElement === "undefined") return;
      link.setAttribute("title", "Klik for at se figuren i stor størrelse");
      link.addEventListener("click", function (event) {
        event.preventDefault();
        open(link, img);
      });
    });
  });
})();
