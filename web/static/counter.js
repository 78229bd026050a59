// The shop counter's scanner: read the member's QR, check its signed pickup
// token on this device, show the order, and queue "确认交付" in the phone's
// outbox (outbox.js), so a counter with no network still hands over.
//
// - Decoding: the browser's BarcodeDetector where it exists (Chrome on
//   Android, fast, native), otherwise jsQR (vendored from npm, pure JS, works
//   in every browser with a canvas; desktop Chromium on Linux and Firefox
//   have no BarcodeDetector). A photo from the file input is the fallback
//   for phones that cannot stream the camera to a page.
// - Checking: the token layout of marketplace/pickup_tokens.py (FL1: +
//   base45(payload ‖ Ed25519 signature)), verified with WebCrypto Ed25519
//   against the public keys the page carries (kept in localStorage, so a
//   page shown from the offline cache still has them). Refused, in order:
//   malformed, unknown key, bad signature (altered), expired, other shop.
// - The server checks everything again when the outbox syncs: the token is
//   not money, only a pointer to an order (marketplace/counter.py).
(function () {
  "use strict";

  var PREFIX = "FL1:";
  var ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  var SIGNATURE_BYTES = 64;
  var HEADER_BYTES = 32; // >BIQIIHIIB
  var KEYS = "fengling.counter.keys";
  var DEVICE = "fengling.counter.device";
  var SCAN_EVERY_MS = 250;
  var section = null;
  var words = {};
  var stream = null;
  var scanTimer = null;

  function refused(reason) { var error = new Error(reason); error.reason = reason; return error; }

  // --- the token ---------------------------------------------------------------
  function base45Decode(text) {
    var values = [];
    for (var i = 0; i < text.length; i += 1) {
      var value = ALPHABET.indexOf(text.charAt(i));
      if (value < 0) { throw refused("malformed"); }
      values.push(value);
    }
    if (values.length % 3 === 1) { throw refused("malformed"); }
    var out = [];
    for (var j = 0; j < values.length; j += 3) {
      if (j + 2 < values.length) {
        var n = values[j] + values[j + 1] * 45 + values[j + 2] * 2025;
        if (n > 0xffff) { throw refused("malformed"); }
        out.push(n >> 8, n & 0xff);
      } else {
        var m = values[j] + values[j + 1] * 45;
        if (m > 0xff) { throw refused("malformed"); }
        out.push(m);
      }
    }
    return new Uint8Array(out);
  }

  function parseToken(text) {
    var token = (text || "").trim();
    if (token.indexOf(PREFIX) !== 0) { throw refused("malformed"); }
    var raw = base45Decode(token.slice(PREFIX.length));
    if (raw.length <= SIGNATURE_BYTES + HEADER_BYTES) { throw refused("malformed"); }
    var payload = raw.slice(0, raw.length - SIGNATURE_BYTES);
    var signature = raw.slice(raw.length - SIGNATURE_BYTES);
    var view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    if (view.getUint8(0) !== 1) { throw refused("malformed"); }
    var nameLength = view.getUint8(31);
    if (payload.length !== HEADER_BYTES + nameLength) { throw refused("malformed"); }
    var name;
    try { name = new TextDecoder("utf-8", { fatal: true }).decode(payload.slice(HEADER_BYTES)); } catch (e) { throw refused("malformed"); }
    return {
      token: token, payload: payload, signature: signature,
      keyId: view.getUint32(1), orderId: Number(view.getBigUint64(5)), shopId: view.getUint32(13),
      itemId: view.getUint32(17), quantity: view.getUint16(21), issued: view.getUint32(23) * 1000,
      expires: view.getUint32(27) * 1000, name: name
    };
  }

  function unBase64Url(text) {
    var padded = text.replace(/-/g, "+").replace(/_/g, "/");
    while (padded.length % 4) { padded += "="; }
    var binary = atob(padded);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) { bytes[i] = binary.charCodeAt(i); }
    return bytes;
  }

  function knownKeys() {
    var fromPage = [];
    try { fromPage = JSON.parse(section.getAttribute("data-keys") || "[]"); } catch (e) { fromPage = []; }
    var stored = [];
    try { stored = JSON.parse(localStorage.getItem(KEYS) || "[]"); } catch (e2) { stored = []; }
    var byId = {};
    stored.concat(fromPage).forEach(function (key) { byId[key.key_id] = key.public_key; });
    return byId;
  }

  function rememberKeys() {
    var keys = knownKeys();
    localStorage.setItem(KEYS, JSON.stringify(Object.keys(keys).map(function (id) {
      return { key_id: Number(id), public_key: keys[id] };
    })));
  }

  // The claims of a genuine, unexpired token of this shop; else a refusal.
  function checkToken(text) {
    var claims;
    try { claims = parseToken(text); } catch (e) { return Promise.reject(e.reason ? e : refused("malformed")); }
    var publicKey = knownKeys()[claims.keyId];
    if (!publicKey) { return Promise.reject(refused("unknown_key")); }
    return crypto.subtle.importKey("raw", unBase64Url(publicKey), { name: "Ed25519" }, false, ["verify"])
      .then(function (key) { return crypto.subtle.verify({ name: "Ed25519" }, key, claims.signature, claims.payload); })
      .then(function (valid) {
        if (!valid) { throw refused("bad_signature"); }
        if (Date.now() >= claims.expires) { throw refused("expired"); }
        if (String(claims.shopId) !== section.getAttribute("data-shop")) { throw refused("other_shop"); }
        return claims;
      });
  }

  // --- what staff see ------------------------------------------------------------
  function chinaTime(ms) {
    var english = section.getAttribute("data-lang") === "en";
    var shown = new Intl.DateTimeFormat(english ? "en-GB" : "zh-CN", {
      timeZone: "Asia/Shanghai", month: english ? "short" : "numeric", day: "numeric",
      hour: "2-digit", minute: "2-digit", hour12: false
    }).format(new Date(ms));
    return shown + (english ? " China time" : " 北京时间");
  }

  function itemName(id) {
    var items = {};
    try { items = JSON.parse(section.getAttribute("data-items") || "{}"); } catch (e) { items = {}; }
    var names = items[String(id)];
    if (!names) { return "#" + id; }
    return section.getAttribute("data-lang") === "en" && names[1] ? names[1] : names[0];
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text != null) { node.textContent = text; }
    return node;
  }

  function showRefusal(reason) {
    var result = document.getElementById("scan-result");
    result.textContent = "";
    var p = element("p", "flash flash-error", words[reason] || words.malformed);
    p.id = "scan-refused";
    p.setAttribute("data-reason", reason);
    p.setAttribute("role", "alert");
    result.appendChild(p);
  }

  function showOrder(claims) {
    var result = document.getElementById("scan-result");
    result.textContent = "";
    var card = element("section", "card counter-check");
    card.id = "scan-order";
    card.setAttribute("data-order", String(claims.orderId));
    card.appendChild(element("p", "flash flash-ok", words.verified));
    card.appendChild(element("h3", "", words.order.replace("{id}", String(claims.orderId))));
    var facts = element("dl", "facts");
    [[words.item, itemName(claims.itemId)], [words.quantity, String(claims.quantity)], [words.member, claims.name],
      [words.issued, chinaTime(claims.issued)], [words.expires, chinaTime(claims.expires)]].forEach(function (pair) {
      var row = element("div");
      row.appendChild(element("dt", "", pair[0]));
      row.appendChild(element("dd", "", pair[1]));
      facts.appendChild(row);
    });
    card.appendChild(facts);
    var button = element("button", "primary confirm-big", words.confirm);
    button.type = "button";
    button.id = "confirm-scanned";
    button.addEventListener("click", function () {
      button.disabled = true;
      var outbox = window.FenglingOutbox;
      outbox.holds("pickup", "token", claims.token).then(function (already) {
        // The same QR confirmed twice on this device is one hand-over.
        if (already) { return null; }
        return outbox.queueFields("pickup", section.getAttribute("data-sync"), { token: claims.token, device: device() });
      }).then(function () {
        card.appendChild(element("p", "flash flash-ok queued", words.queued));
        button.hidden = true;
      });
    });
    card.appendChild(button);
    result.appendChild(card);
  }

  function device() {
    var id = localStorage.getItem(DEVICE);
    if (!id) {
      id = (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random()).slice(0, 36);
      localStorage.setItem(DEVICE, id);
    }
    return id;
  }

  function handle(text) {
    return checkToken(text).then(showOrder, function (error) { showRefusal(error.reason || "malformed"); });
  }

  // --- decoding ----------------------------------------------------------------
  var native = "BarcodeDetector" in window;
  var detector = null;

  function decodeCanvas(canvas) {
    if (native) {
      if (!detector) { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); }
      return detector.detect(canvas).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
    }
    var context = canvas.getContext("2d", { willReadFrequently: true });
    var image = context.getImageData(0, 0, canvas.width, canvas.height);
    var found = window.jsQR ? window.jsQR(image.data, image.width, image.height) : null;
    return Promise.resolve(found ? found.data : null);
  }

  function canvasOf(source, width, height) {
    var canvas = document.createElement("canvas");
    var scale = Math.min(1, 1200 / Math.max(width, height));
    canvas.width = Math.max(1, Math.round(width * scale));
    canvas.height = Math.max(1, Math.round(height * scale));
    var context = canvas.getContext("2d", { willReadFrequently: true });
    context.fillStyle = "#fff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.drawImage(source, 0, 0, canvas.width, canvas.height);
    return canvas;
  }

  function decodeFile(file) {
    return createImageBitmap(file).then(function (bitmap) {
      return decodeCanvas(canvasOf(bitmap, bitmap.width, bitmap.height));
    });
  }

  function stopCamera() {
    if (scanTimer) { window.clearInterval(scanTimer); scanTimer = null; }
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); stream = null; }
    var video = document.getElementById("scan-video");
    video.hidden = true;
    document.getElementById("scan-camera").textContent = words.start;
  }

  function startCamera() {
    var video = document.getElementById("scan-video");
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (media) {
      stream = media;
      video.srcObject = media;
      video.hidden = false;
      document.getElementById("scan-camera").textContent = words.stop;
      return video.play();
    }).then(function () {
      var busy = false;
      scanTimer = window.setInterval(function () {
        if (busy || !video.videoWidth) { return; }
        busy = true;
        decodeCanvas(canvasOf(video, video.videoWidth, video.videoHeight)).then(function (text) {
          busy = false;
          if (text) { stopCamera(); handle(text); }
        }, function () { busy = false; });
      }, SCAN_EVERY_MS);
    })["catch"](function () {
      stopCamera();
      showRefusal("camera_none");
    });
  }

  function setUp() {
    section = document.getElementById("scan");
    if (!section) { return; }
    try { words = JSON.parse(section.getAttribute("data-words") || "{}"); } catch (e) { words = {}; }
    rememberKeys();
    section.setAttribute("data-engine", native ? "native" : "jsqr");
    var camera = document.getElementById("scan-camera");
    if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
      camera.hidden = false;
      camera.addEventListener("click", function () { if (stream) { stopCamera(); } else { startCamera(); } });
    }
    var file = document.getElementById("scan-file");
    file.addEventListener("change", function () {
      var chosen = file.files && file.files[0];
      if (!chosen) { return; }
      decodeFile(chosen).then(function (text) {
        if (text) { return handle(text); }
        showRefusal("none");
      }, function () { showRefusal("none"); }).then(function () { file.value = ""; });
    });
    // For the browser tests and for a USB scanner that types: check a token given as text.
    section.addEventListener("fengling:token", function (event) { handle(event.detail); });
  }

  document.addEventListener("DOMContentLoaded", setUp);
})();
