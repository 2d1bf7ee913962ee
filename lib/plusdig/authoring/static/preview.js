(function () {
  var generation = %(generation)d;
  var building = false;
  var box = document.getElementById("plusdig-preview-fejl");
  var badge = document.getElementById("plusdig-preview-bygger");
  // The error box is fixed at the foot of the window (a reload keeps the reader's place on the
  // page, so a box at the top of the page could be out of sight): the page ends above it.
  function makeRoom() {
    if (!box) { return; }
    document.body.style.paddingBottom = box.offsetHeight + "px";
    if (badge) { badge.style.bottom = (box.offsetHeight + 16) + "px"; }
  }
  makeRoom();
  window.addEventListener("resize", makeRoom);
  function wait() {
    fetch("%(prefix)swait?generation=" + generation + "&building=" + (building ? 1 : 0),
          {cache: "no-store"}).then(function (r) { return r.json(); })
      .then(function (s) {
        building = s.building;
        if (badge) { badge.hidden = !s.building; }
        if (s.generation !== generation) { window.location.reload(); } else { wait(); }
      }).catch(function () { setTimeout(wait, 1000); });
  }
  wait();
})();
