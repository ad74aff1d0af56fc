// The reviewer console: the queue refreshes itself; documents zoom, rotate
// and fit; PDFs are fetched and shown from a blob of type application/pdf
// (never rendered as HTML); every decision has a keyboard shortcut.
"use strict";
(function () {
  var queue = document.getElementById("queue");
  if (queue) {
    setInterval(function () {
      fetch(queue.getAttribute("data-refresh"), { credentials: "same-origin" }).then(function (r) {
        if (r.ok) return r.text().then(function (html) { queue.innerHTML = html; });
      }).catch(function () {});
    }, 30000);
  }

  var zooms = ["z0", "z1", "z2", "z3", "z4"], turns = ["r0", "r90", "r180", "r270"];
  function viewerOf(el) { return el && el.closest(".doc") ? el.closest(".doc").querySelector(".viewer") : null; }
  function act(viewer, what) {
    if (!viewer) return;
    var img = viewer.querySelector(".doc-img");
    var z = Number(viewer.getAttribute("data-zoom")), r = Number(viewer.getAttribute("data-rotate"));
    if (what === "zoomin") z = Math.min(4, z + 1);
    if (what === "zoomout") z = Math.max(0, z - 1);
    if (what === "rotate") r = (r + 1) % 4;
    if (what === "fit") { z = 1; }
    viewer.setAttribute("data-zoom", String(z)); viewer.setAttribute("data-rotate", String(r));
    if (img) { img.classList.remove.apply(img.classList, zooms.concat(turns)); img.classList.add(zooms[z], turns[r]); }
    viewer.setAttribute("data-rotation", String(r * 90));
  }
  Array.prototype.forEach.call(document.querySelectorAll(".viewer"), function (v) { v.setAttribute("data-zoom", "1"); v.setAttribute("data-rotate", "0"); act(v, ""); });
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-act]");
    if (b) act(viewerOf(b), b.getAttribute("data-act"));
  });

  // Images: mark decoded ones (the browser test reads this).
  Array.prototype.forEach.call(document.querySelectorAll(".doc-img"), function (img) {
    function done() { img.closest(".doc").setAttribute("data-rendered", img.naturalWidth > 0 ? "image" : "failed"); }
    if (img.complete) done(); else { img.addEventListener("load", done); img.addEventListener("error", done); }
  });
  // PDFs: fetched, checked to start with %PDF-, shown from a blob URL.
  Array.prototype.forEach.call(document.querySelectorAll(".doc-pdf"), function (frame) {
    var doc = frame.closest(".doc");
    fetch(frame.getAttribute("data-src")).then(function (r) { if (!r.ok) throw new Error(r.status); return r.arrayBuffer(); })
      .then(function (buf) {
        var head = String.fromCharCode.apply(null, new Uint8Array(buf.slice(0, 5)));
        if (head !== "%PDF-") throw new Error("not a PDF");
        var url = URL.createObjectURL(new Blob([buf], { type: "application/pdf" }));
        frame.src = url;
        var open = doc.querySelector(".doc-pdf-open");
        if (open) { open.href = url; open.hidden = false; }
        doc.setAttribute("data-rendered", "pdf");
      }).catch(function () { doc.setAttribute("data-rendered", "failed"); });
  });

  // Keyboard shortcuts (not while typing).
  var focusedDoc = null;
  document.addEventListener("focusin", function (e) { if (e.target.closest && e.target.closest(".doc")) focusedDoc = e.target.closest(".doc"); });
  function pick(id) { var el = document.getElementById(id); if (el) { el.checked = true; el.dispatchEvent(new Event("change", { bubbles: true })); } }
  function focus(id) { var el = document.getElementById(id); if (el) el.focus(); }
  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target.tagName;
    if (t === "INPUT" || t === "TEXTAREA" || t === "SELECT") return;
    var viewer = (focusedDoc || document.querySelector(".doc")) ? (focusedDoc || document.querySelector(".doc")).querySelector(".viewer") : null;
    var handled = true;
    switch (e.key) {
      case "c": var c = document.getElementById("claim"); if (c) c.click(); else handled = false; break;
      case "u": var u = document.getElementById("release"); if (u) u.click(); else handled = false; break;
      case "a": pick("identity-approve"); pick("address-approve"); focus("record"); break;
      case "1": pick("identity-approve"); break;
      case "2": pick("identity-reject"); focus("verdict-identity"); break;
      case "3": pick("address-approve"); break;
      case "4": pick("address-reject"); focus("verdict-address"); break;
      case "o": act(viewer, "rotate"); break;
      case "+": case "=": act(viewer, "zoomin"); break;
      case "-": act(viewer, "zoomout"); break;
      case "f": act(viewer, "fit"); break;
      case "m": focus("message"); break;
      case "n": focus("note"); break;
      case "k": var k = document.getElementById("check"); if (k) k.click(); else handled = false; break;
      case "d": focus("record"); break;
      case "?": var s = document.getElementById("shortcuts"); if (s) s.hidden = !s.hidden; break;
      default: handled = false;
    }
    if (handled) e.preventDefault();
  });
})();
