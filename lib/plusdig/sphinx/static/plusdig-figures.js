// Figures (plusdig.sphinx.tablefig). A click shows a figure large: its full-size file in a
// dialog over the page; Escape, the button or a click on the image closes it. Without
// JavaScript the link opens the file itself. A figure wider than the screen (a phone: figures
// are never shown smaller than drawn) scrolls in its own box, with a hint above it.
(function () {
  "use strict";
  var HINT = "Rul sidelæns for at se hele figuren, eller tryk for at forstørre.";
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
  function hint(link) {
    var p = document.createElement("p");
    p.className = "plusdig-figure-hint";
    p.setAttribute("aria-hidden", "true");  // for the eye: the figure's alt text is its content
    p.textContent = HINT;
    p.hidden = true;
    link.parentNode.insertBefore(p, link);
    function update() { p.hidden = link.scrollWidth <= link.clientWidth + 1; }
    link.querySelector("img").addEventListener("load", update);
    window.addEventListener("resize", update);
    update();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("figure a.image-reference").forEach(function (link) {
      var img = link.querySelector("img");
      if (!img) return;
      hint(link);
      if (typeof HTMLDialogElement === "undefined") return;
      link.setAttribute("title", "Klik for at se figuren i stor størrelse");
      link.addEventListener("click", function (event) {
        event.preventDefault();
        open(link, img);
      });
    });
  });
})();
