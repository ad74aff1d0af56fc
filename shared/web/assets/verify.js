// The customer's verification page: upload (photos scaled down in the
// browser, straight to S3 through the presigned POST, with progress), the
// validator's verdict, and the deadlines' countdown. No inline script: the
// page's CSP allows only this file.
"use strict";
(function () {
  var MAX_PHOTO = 2 * 1024 * 1024, LONG_EDGE = 2500;
  var form = document.getElementById("upload");

  function msg(key) { return form ? form.getAttribute("data-msg-" + key) || "" : ""; }
  function say(text, bad) {
    var el = document.getElementById("upload-status");
    el.textContent = text;
    el.className = "upload-status" + (bad ? " error" : "");
  }

  // Types follow the category; the utility kind only for a utility bill.
  function syncTypes() {
    var cat = document.getElementById("category").value, type = document.getElementById("type");
    var first = null;
    Array.prototype.forEach.call(type.querySelectorAll("option"), function (o) {
      var show = o.getAttribute("data-category") === cat;
      o.hidden = !show; o.disabled = !show;
      if (show && !first) first = o;
    });
    if (type.selectedOptions.length === 0 || type.selectedOptions[0].disabled) type.value = first ? first.value : "";
    document.getElementById("utility-row").hidden = type.value !== "utility_bill";
  }

  // scale draws a photo again with its long edge at most 2500 px as JPEG,
  // lowering the quality until it is at most 2 MB.
  function scale(file) {
    return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bmp) {
      var k = Math.min(1, LONG_EDGE / Math.max(bmp.width, bmp.height));
      var c = document.createElement("canvas");
      c.width = Math.round(bmp.width * k); c.height = Math.round(bmp.height * k);
      c.getContext("2d").drawImage(bmp, 0, 0, c.width, c.height);
      function encode(q) {
        return new Promise(function (ok) { c.toBlob(ok, "image/jpeg", q); }).then(function (b) {
          return b.size <= MAX_PHOTO || q <= 0.4 ? b : encode(q - 0.1);
        });
      }
      return encode(0.85);
    });
  }

  function post(url, data) {
    return fetch(url, { method: "POST", body: new URLSearchParams(data), credentials: "same-origin",
      headers: { "Accept": "application/json" } }).then(function (r) {
      return r.json().then(function (j) { if (!r.ok) throw new Error(j.detail || msg("failed")); return j; });
    });
  }

  // send posts the file to the presigned form, reporting progress.
  function send(upload, blob, type) {
    return new Promise(function (ok, fail) {
      var fd = new FormData();
      Object.keys(upload.fields).forEach(function (k) { fd.append(k, upload.fields[k]); });
      fd.append("file", new File([blob], "document", { type: type }));
      var xhr = new XMLHttpRequest(), bar = document.getElementById("progress");
      bar.hidden = false; bar.value = 0;
      var events = 0;
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) bar.value = Math.round(100 * e.loaded / e.total);
        form.setAttribute("data-progress-events", String(++events));
      };
      xhr.onload = function () { if (xhr.status >= 200 && xhr.status < 300) { bar.value = 100; ok(); } else fail(new Error(msg("failed"))); };
      xhr.onerror = function () { fail(new Error(msg("failed"))); };
      xhr.open("POST", upload.url);
      xhr.send(fd);
    });
  }

  // verdict polls the document until the validator has decided.
  function verdict(id, tries) {
    return fetch("/verify/documents/" + encodeURIComponent(id), { credentials: "same-origin" }).then(function (r) { return r.json(); })
      .then(function (d) {
        if (d.state === "valid") { say(msg("accepted")); form.setAttribute("data-result", "valid"); setTimeout(function () { location.reload(); }, 800); return; }
        if (d.state === "invalid") { say(msg("refused") + " " + (d.message || ""), true); form.setAttribute("data-result", "invalid"); return; }
        if (tries <= 0) { say(msg("slow")); return; }
        return new Promise(function (ok) { setTimeout(ok, 1000); }).then(function () { return verdict(id, tries - 1); });
      });
  }

  if (form) {
    document.getElementById("category").addEventListener("change", syncTypes);
    document.getElementById("type").addEventListener("change", syncTypes);
    syncTypes();
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var input = document.getElementById("photo").files[0] || document.getElementById("file").files[0];
      if (!input) { say(msg("nofile"), true); return; }
      var btn = document.getElementById("send"); btn.disabled = true;
      var type = input.type, prepared;
      if (type.indexOf("image/") === 0 && (input.size > MAX_PHOTO || (type !== "image/jpeg" && type !== "image/png"))) {
        say(msg("scaling")); prepared = scale(input); type = "image/jpeg";
      } else if (["image/jpeg", "image/png", "application/pdf"].indexOf(type) < 0) {
        say(msg("badtype"), true); btn.disabled = false; return;
      } else prepared = Promise.resolve(input);
      prepared.then(function (blob) {
        if (blob.size > Number(form.getAttribute("data-max"))) throw new Error(msg("toolarge"));
        form.setAttribute("data-bytes", String(blob.size));
        say(msg("sending"));
        var utility = document.getElementById("type").value === "utility_bill" ? document.getElementById("utility").value : "";
        return post("/verify/documents", { category: document.getElementById("category").value, type: document.getElementById("type").value,
          utility: utility, contentType: type, size: String(blob.size) }).then(function (doc) {
          return send(doc.upload, blob, type).then(function () { say(msg("checking")); return verdict(doc.documentId, 60); });
        });
      }).catch(function (err) { say(err.message || msg("failed"), true); }).then(function () { btn.disabled = false; });
    });
  }

  // Countdowns, from the server's "now" (the policy's clock).
  var skew = 0, cds = document.querySelectorAll(".countdown");
  if (cds.length) skew = Date.parse(cds[0].getAttribute("data-now")) - Date.now();
  function tick() {
    Array.prototype.forEach.call(cds, function (el) {
      var left = Date.parse(el.getAttribute("data-deadline")) - (Date.now() + skew);
      if (left <= 0) return;
      var m = Math.floor(left / 60000), d = Math.floor(m / 1440), h = Math.floor(m / 60) % 24;
      el.textContent = document.body.getAttribute("data-lang") === "zh-Hant" ?
        d + " 天 " + h + " 小時 " + (m % 60) + " 分鐘" : d + " d " + h + " h " + (m % 60) + " min";
    });
  }
  if (cds.length) setInterval(tick, 30000);
})();
