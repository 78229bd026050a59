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
// - Static files: cache first. Their names carry no version, so the cache
//   is renamed whenever any of them changes: /sw.js is served with VERSION's
//   "dev" replaced by a digest of web/static (web/earn_pages.py
//   shell_version), which also makes the browser install the new worker.
// - Nothing else is touched: POSTs (the outbox sends them itself), the JSON
//   API and the worker script go straight to the network.
"use strict";

var VERSION = "fengling-shell-dev";
var STATIC = ["/static/pages.css", "/static/pages.js", "/static/outbox.js", "/static/vendor/htmx.min.js"];
var PAGES = ["/", "/earn", "/earn/report", "/earn/patrol", "/earn/service", "/earn/mine", "/earn/tasks", "/statement", "/me"];
var NEVER = ["/api/", "/sw.js", "/logout", "/login", "/schema", "/health"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(VERSION).then(function (cache) { return cache.addAll(STATIC); }));
  self.skipWaiting();
});

function keep(cache, key, response) {
  // Only a page that really loaded, never a redirect to the login page.
  if (response.ok && !response.redirected && response.type === "basic") {
    return cache.put(key, response.clone()).then(function () { return response; });
  }
  return Promise.resolve(response);
}

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) { return name !== VERSION; }).map(function (name) {
        return caches["delete"](name);
      }));
    }).then(function () {
      return caches.open(VERSION).then(function (cache) {
        // Warm the shell so that a page not yet visited opens offline too.
        return Promise.all(PAGES.map(function (path) {
          return fetch(path, { credentials: "same-origin" }).then(function (response) {
            return keep(cache, path, response);
          })["catch"](function () { return null; });
        }));
      });
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("message", function (event) {
  // Logging out: the cached pages hold the member's figures.
  if (event.data === "forget-pages") {
    event.waitUntil(caches.open(VERSION).then(function (cache) {
      return Promise.all(PAGES.map(function (path) { return cache["delete"](path); }));
    }));
  }
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (NEVER.some(function (prefix) { return url.pathname === prefix || url.pathname.indexOf(prefix) === 0; })) { return; }
  if (url.pathname.indexOf("/static/") === 0) {
    event.respondWith(caches.open(VERSION).then(function (cache) {
      return cache.match(url.pathname).then(function (hit) {
        return hit || fetch(request).then(function (response) { return keep(cache, url.pathname, response); });
      });
    }));
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(caches.open(VERSION).then(function (cache) {
      return fetch(request).then(function (response) {
        return keep(cache, url.pathname, response);
      })["catch"](function () {
        return cache.match(url.pathname).then(function (hit) {
          return hit || cache.match("/").then(function (home) {
            return home || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
          });
        });
      });
    }));
  }
});
