// Fengling's service worker, served as /sw.js (scope: every page).
//
// Hand-written rather than Workbox (see web/README.md): the shell needs two
// strategies in about sixty lines, Workbox's loader fetches its modules
// from Google's CDN (unreachable in mainland China) unless several module
// files are vendored and wired by a build step, which the project does not
// have.
//
// - Pages (navigations): network first; a page that loads is kept, and
//   offline the last copy is shown (the home page says how old its balance
//   is: web/templates/home.html, pages.js).
// - Kept pages are one member's (they hold their figures, pickup codes and
//   statement): each page names its viewer (the X-Fengling-Viewer header,
//   web/rendering.py) and the page cache holds one viewer's pages only. It
//   is emptied on logout, when a page for someone else arrives (another
//   member logged in on this phone), and when a page turns out to need a
//   login (the session ended: expired, password changed, signed out
//   elsewhere). Printouts and the organisers' dashboard are never kept.
// - Static files: cache first. Their names carry no version, so the cache
//   is renamed whenever any of them changes: /sw.js is served with VERSION's
//   "dev" replaced by a digest of web/static (web/earn_pages.py
//   shell_version), which also makes the browser install the new worker.
// - Nothing else is touched: POSTs (the outbox sends them itself), the JSON
//   API and the worker script go straight to the network.
"use strict";

var VERSION = "fengling-shell-dev";
var PAGE_CACHE = VERSION + "-pages";
var VIEWER_KEY = "/__fengling_viewer";
var STATIC = ["/static/pages.css", "/static/pages.js", "/static/outbox.js", "/static/vendor/htmx.min.js", "/static/icon.svg"];
var PAGES = ["/", "/earn", "/earn/report", "/earn/patrol", "/earn/service", "/earn/mine", "/earn/tasks", "/statement", "/me"];
var NEVER = ["/api/", "/sw.js", "/logout", "/login", "/schema", "/health"];
var NOT_KEPT = ["/statement/print", "/dashboard", "/admin"];

function under(pathname, prefixes) {
  return prefixes.some(function (prefix) { return pathname === prefix || pathname.indexOf(prefix) === 0; });
}

// Changes to the page cache run one after another: the warm-up keeps nine
// pages at once, and two of them each finding no holder yet must not each
// empty the cache the other has just filled.
var pageChanges = Promise.resolve();

function inTurn(change) {
  var done = pageChanges.then(change, change);
  pageChanges = done["catch"](function () { return null; });
  return done;
}

function forgetPages() { return caches["delete"](PAGE_CACHE); }

// The page cache, holding ``viewer``'s pages only: another member's are dropped first.
function pagesOf(viewer) {
  return caches.open(PAGE_CACHE).then(function (cache) {
    return cache.match(VIEWER_KEY).then(function (hit) { return hit ? hit.text() : ""; }).then(function (holder) {
      if (holder === viewer) { return cache; }
      return forgetPages().then(function () { return caches.open(PAGE_CACHE); }).then(function (fresh) {
        return fresh.put(VIEWER_KEY, new Response(viewer)).then(function () { return fresh; });
      });
    });
  });
}

function keepPage(pathname, response) {
  if (response.type !== "basic") { return Promise.resolve(response); }
  if (response.redirected && new URL(response.url).pathname === "/login") {
    // The session is over: nothing of it stays on the phone. (Only the
    // warm-up's fetches follow redirects; a navigation's is opaque, and the
    // login page it lands on asks for the same: pages.js.)
    return inTurn(forgetPages).then(function () { return response; });
  }
  var viewer = response.headers.get("X-Fengling-Viewer");
  if (!response.ok || response.redirected || !viewer || under(pathname, NOT_KEPT)) { return Promise.resolve(response); }
  var copy = response.clone();
  return inTurn(function () {
    return pagesOf(viewer).then(function (cache) { return cache.put(pathname, copy); });
  }).then(function () { return response; });
}

function keepStatic(cache, key, response) {
  if (response.ok && !response.redirected && response.type === "basic") {
    return cache.put(key, response.clone()).then(function () { return response; });
  }
  return Promise.resolve(response);
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(VERSION).then(function (cache) { return cache.addAll(STATIC); }));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) { return name !== VERSION && name !== PAGE_CACHE; }).map(function (name) {
        return caches["delete"](name);
      }));
    }).then(function () {
      // Warm the shell so that a page not yet visited opens offline too.
      return Promise.all(PAGES.map(function (path) {
        return fetch(path, { credentials: "same-origin" }).then(function (response) {
          return keepPage(path, response);
        })["catch"](function () { return null; });
      }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("message", function (event) {
  // Logging out: the kept pages hold the member's figures.
  if (event.data === "forget-pages") { event.waitUntil(inTurn(forgetPages)); }
});

function offlinePage() {
  return new Response(
    "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">" +
    "<title>没有网络</title><p>没有网络，这一页还没有存在手机上。有网络时再打开。</p>" +
    "<p lang=\"en\">You are offline and this page is not saved on the phone yet.</p></html>",
    { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }
  );
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (under(url.pathname, NEVER)) { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.open(VERSION).then(function (cache) {
      return cache.match(url.pathname).then(function (hit) {
        return hit || fetch(request).then(function (response) { return keepStatic(cache, url.pathname, response); });
      });
    }));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).then(function (response) {
      return keepPage(url.pathname, response);
    })["catch"](function () {
      return caches.open(PAGE_CACHE).then(function (cache) {
        return cache.match(url.pathname).then(function (hit) {
          return hit || cache.match("/").then(function (home) { return home || offlinePage(); });
        });
      });
    }));
  }
});
