// Fengling pages: the few behaviours that need script. Loaded from this
// origin only (CSP: no inline script). The pages work without it.
(function () {
  "use strict";

  // 读给我听: speak a page's figures with the browser's speech synthesis;
  // the buttons stay hidden where there is none.
  function setUpReadAloud() {
    var buttons = document.querySelectorAll(".read-aloud");
    if (!("speechSynthesis" in window) || typeof SpeechSynthesisUtterance === "undefined") {
      return;
    }
    buttons.forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        var text = button.getAttribute("data-speech") || "";
        var linesSelector = button.getAttribute("data-read-lines");
        if (linesSelector) {
          document.querySelectorAll(linesSelector + " .line").forEach(function (line, index) {
            if (index < 10) { text += " " + line.innerText.replace(/\s+/g, " ") + "。"; }
          });
        }
        window.speechSynthesis.cancel();
        var utterance = new SpeechSynthesisUtterance(text);
        utterance.lang = button.getAttribute("data-lang") || "zh-CN";
        utterance.rate = 0.9;
        window.speechSynthesis.speak(utterance);
      });
    });
  }

  // The offline banner: shown while the browser says it is offline.
  function setUpOfflineBanner() {
    var banner = document.getElementById("offline-banner");
    var asOf = document.getElementById("balance-as-of");
    if (!banner) { return; }
    function update() {
      banner.hidden = navigator.onLine;
      // The home page shown from the phone's cache: how old the balance is.
      if (asOf) { asOf.hidden = navigator.onLine; }
    }
    window.addEventListener("online", update);
    window.addEventListener("offline", update);
    update();
  }

  function setUpPrint() {
    document.querySelectorAll(".print-now").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
  }

  // A form whose button is marked "once" (redeem, cancel) disables it while
  // the request is under way; the server's idempotency key makes a second
  // send harmless anyway, so it comes back after a while for a retry.
  function setUpSubmitOnce() {
    document.querySelectorAll("form").forEach(function (form) {
      var button = form.querySelector("button.once");
      if (!button) { return; }
      form.addEventListener("submit", function () {
        window.setTimeout(function () { button.disabled = true; }, 0);
        window.setTimeout(function () { button.disabled = false; }, 8000);
      });
    });
  }

  // The offline shell (/sw.js, web/static/service-worker.js). Logging out
  // drops the kept pages: they hold the member's figures. So does any page
  // shown to nobody logged in (the login page after a session ended by
  // expiry or elsewhere): the worker cannot see where a redirect went.
  function setUpServiceWorker() {
    if (!("serviceWorker" in navigator)) { return; }
    var loggedIn = document.getElementById("outbox");
    if (loggedIn) {
      navigator.serviceWorker.register("/sw.js", { scope: "/" })["catch"](function () { return null; });
    } else if (document.body.hasAttribute("data-signed-out") && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage("forget-pages");
    }
    document.querySelectorAll("form[action='/logout']").forEach(function (form) {
      form.addEventListener("submit", function () {
        if (navigator.serviceWorker.controller) { navigator.serviceWorker.controller.postMessage("forget-pages"); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpServiceWorker();
    setUpReadAloud();
    setUpSubmitOnce();
    setUpOfflineBanner();
    setUpPrint();
  });
})();
