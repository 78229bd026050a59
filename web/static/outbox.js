// Fengling's offline outbox: what a volunteer submits is written to the
// phone first (IndexedDB), then sent, each item by itself, when there is a
// connection. Lessons from field apps (ODK, Enketo, Ushahidi):
// - every item carries a client_ref made here, so a retry after a lost
//   answer is the same effect on the server, never a duplicate;
// - the queue is never silent: the page says how many records wait, when
//   the last upload succeeded, and warns not to clear the browser data;
// - a refused item moves to "needs attention" with the server's reason and
//   never blocks the others;
// - a report's photo is kept in the outbox with it (as a Blob), shrunk on
//   the phone to about 1600 px / 300 KB first.
// Sync runs on page load, on the browser's `online` event and on the
// button; failures back off (2 s doubling, at most 5 min).
(function () {
  "use strict";

  var DB_NAME = "fengling-outbox";
  var STORE = "items";
  var LAST_UPLOAD = "fengling.lastUpload";
  var PATROL = "fengling.patrol";
  var MAX_SIDE = 1600;
  var MAX_BYTES = 300 * 1024;
  var ROUTE_EVERY_MS = 60 * 1000;
  var BACKOFF_MS = 2000;
  var BACKOFF_MAX_MS = 5 * 60 * 1000;
  var panel = null;
  var syncing = false;
  var dbPromise = null;

  // --- storage -------------------------------------------------------------
  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore(STORE, { keyPath: "id" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }

  function withStore(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var transaction = db.transaction(STORE, mode);
        var result = work(transaction.objectStore(STORE));
        transaction.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        transaction.onerror = function () { reject(transaction.error); };
        transaction.onabort = function () { reject(transaction.error); };
      });
    });
  }

  function member() { return panel ? panel.getAttribute("data-member") : ""; }

  function allItems() {
    return withStore("readonly", function (store) { return store.getAll(); }).then(function (items) {
      return (items || []).filter(function (item) { return item.member === member(); })
        .sort(function (a, b) { return a.seq - b.seq; });
    });
  }

  function putItem(item) { return withStore("readwrite", function (store) { store.put(item); }); }
  function deleteItem(id) { return withStore("readwrite", function (store) { store["delete"](id); }); }

  function newRef() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") { return window.crypto.randomUUID(); }
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  // --- words ---------------------------------------------------------------
  function words(name, values) {
    var text = (panel && panel.getAttribute("data-" + name)) || "";
    Object.keys(values || {}).forEach(function (key) { text = text.replace("{" + key + "}", values[key]); });
    return text;
  }

  function chinaTime(iso) {
    var english = panel && panel.getAttribute("data-lang") === "en";
    var shown = new Intl.DateTimeFormat(english ? "en-GB" : "zh-CN", {
      timeZone: "Asia/Shanghai", month: english ? "short" : "numeric", day: "numeric",
      hour: "2-digit", minute: "2-digit", hour12: false
    }).format(new Date(iso));
    return shown + (english ? " China time" : " 北京时间");
  }

  function kindName(kind) {
    try { return JSON.parse(panel.getAttribute("data-kinds"))[kind] || kind; } catch (e) { return kind; }
  }

  function flash(text) {
    var area = document.getElementById("flash");
    if (!area) { return; }
    area.textContent = "";
    var p = document.createElement("p");
    p.className = "flash flash-ok";
    p.textContent = text;
    area.appendChild(p);
  }

  // --- what the person sees --------------------------------------------------
  function render() {
    if (!panel) { return Promise.resolve(); }
    return allItems().then(function (items) {
      var waiting = items.filter(function (item) { return item.state !== "attention"; });
      var attention = items.filter(function (item) { return item.state === "attention"; });
      panel.hidden = waiting.length === 0 && attention.length === 0;
      panel.setAttribute("data-waiting", String(waiting.length));
      document.getElementById("outbox-count").textContent = waiting.length ? words("pending", { n: waiting.length }) : "";
      document.getElementById("outbox-warning").hidden = waiting.length === 0;
      document.getElementById("outbox-sync").hidden = waiting.length === 0;
      var last = localStorage.getItem(LAST_UPLOAD + "." + member());
      document.getElementById("outbox-last").textContent = last ? words("last", { when: chinaTime(last) }) : words("never");
      var box = document.getElementById("outbox-attention");
      var list = document.getElementById("outbox-attention-list");
      list.textContent = "";
      box.hidden = attention.length === 0;
      attention.forEach(function (item) {
        var li = document.createElement("li");
        li.className = "attention-item";
        var what = document.createElement("p");
        what.className = "attention-what";
        what.textContent = kindName(item.kind) + " · " + chinaTime(item.recorded);
        var why = document.createElement("p");
        why.className = "attention-why";
        why.textContent = item.reason || "";
        var discard = document.createElement("button");
        discard.type = "button";
        discard.className = "danger";
        discard.textContent = words("discard");
        discard.addEventListener("click", function () { deleteItem(item.id).then(render); });
        li.appendChild(what);
        li.appendChild(why);
        li.appendChild(discard);
        list.appendChild(li);
      });
    });
  }

  // --- sending ---------------------------------------------------------------
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function body(item) {
    var fields = item.fields;
    if (item.multipart) {
      var form = new FormData();
      Object.keys(fields).forEach(function (name) { form.append(name, fields[name]); });
      if (item.photo) { form.append("photo", item.photo, "photo.jpg"); }
      return form;
    }
    return new URLSearchParams(fields);
  }

  function reasonOf(response) {
    return response.json().then(function (problem) {
      var title = problem.title || "";
      var detail = problem.detail && problem.detail !== title ? problem.detail : "";
      return detail ? title + "：" + detail : title;
    }, function () { return String(response.status); });
  }

  // One item: "sent", "refused" (with reason), "login" (no session), or "later".
  function send(item) {
    return fetch(item.url, {
      method: "POST",
      body: body(item),
      credentials: "same-origin",
      redirect: "manual",
      headers: { "X-Fengling-Outbox": "1", "X-CSRFToken": csrfToken(), "Accept": "application/json" }
    }).then(function (response) {
      if (response.ok) { return { outcome: "sent" }; }
      if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
        return { outcome: "login" };
      }
      if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
        return reasonOf(response).then(function (reason) { return { outcome: "refused", reason: reason }; });
      }
      return { outcome: "later" };
    }, function () { return { outcome: "later" }; });
  }

  function sync(force) {
    if (syncing || !panel || !navigator.onLine) { return Promise.resolve(); }
    syncing = true;
    var stopped = false;
    return allItems().then(function (items) {
      var waitingCheckIns = {};
      items.forEach(function (item) {
        if (item.kind === "check_in" && item.state !== "attention") { waitingCheckIns[item.id] = true; }
      });
      var chain = Promise.resolve();
      items.forEach(function (item) {
        chain = chain.then(function () {
          if (stopped || item.state === "attention") { return; }
          // A route point or check-out waits for its patrol's check-in.
          if (item.patrol_ref && waitingCheckIns[item.patrol_ref]) { return; }
          if (!force && item.next_try && item.next_try > Date.now()) { return; }
          if (item.patrol_ref) { item.fields.patrol_ref = item.patrol_ref; }
          return send(item).then(function (result) {
            if (result.outcome === "sent") {
              delete waitingCheckIns[item.id];
              localStorage.setItem(LAST_UPLOAD + "." + member(), new Date().toISOString());
              return deleteItem(item.id);
            }
            if (result.outcome === "refused") {
              delete waitingCheckIns[item.id];
              item.state = "attention";
              item.reason = result.reason;
              return putItem(item);
            }
            if (result.outcome === "login") {
              stopped = true;
              flash(words("login"));
              return;
            }
            item.attempts = (item.attempts || 0) + 1;
            item.next_try = Date.now() + Math.min(BACKOFF_MS * Math.pow(2, item.attempts - 1), BACKOFF_MAX_MS);
            return putItem(item);
          }).then(render);
        });
      });
      return chain;
    }).then(function () {
      syncing = false;
      return render();
    }, function () {
      syncing = false;
    });
  }

  function scheduleRetry() {
    allItems().then(function (items) {
      var next = items.filter(function (item) { return item.state !== "attention" && item.next_try; })
        .map(function (item) { return item.next_try; });
      if (next.length) {
        window.setTimeout(function () { sync(false); }, Math.max(1000, Math.min.apply(null, next) - Date.now()));
      }
    });
  }

  // --- queueing ----------------------------------------------------------------
  function locate() {
    return new Promise(function (resolve, reject) {
      if (!("geolocation" in navigator)) { reject(new Error("no geolocation")); return; }
      navigator.geolocation.getCurrentPosition(resolve, reject, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  function currentPatrol() {
    try { return JSON.parse(localStorage.getItem(PATROL + "." + member()) || "null"); } catch (e) { return null; }
  }

  function queue(form, extra) {
    var fields = {};
    var photo = null;
    new FormData(form).forEach(function (value, name) {
      if (name === "_csrf_token") { return; }
      if (typeof value === "string") { fields[name] = value; }
    });
    Object.keys(extra.fields || {}).forEach(function (name) { fields[name] = extra.fields[name]; });
    var ref = newRef();
    var now = new Date().toISOString();
    fields.client_ref = ref;
    fields.client_recorded_at = now;
    if (extra.photo) { photo = extra.photo; }
    var item = {
      id: ref, seq: Date.now() + Math.random(), member: member(), kind: form.getAttribute("data-outbox"),
      url: form.getAttribute("action"), multipart: form.enctype === "multipart/form-data", fields: fields,
      photo: photo, patrol_ref: extra.patrol_ref || null, recorded: now, state: "waiting", attempts: 0, next_try: 0
    };
    return putItem(item).then(function () { return item; });
  }

  function setPosition(form, position) {
    form.querySelector("[name=latitude]").value = String(position.coords.latitude);
    form.querySelector("[name=longitude]").value = String(position.coords.longitude);
    form.querySelector("[name=accuracy_m]").value = position.coords.accuracy != null ? String(Math.min(position.coords.accuracy, 10000)) : "";
  }

  function patrolFields(form) {
    var mine = currentPatrol();
    if (mine) { return { patrol_ref: mine.ref, fields: {} }; }
    var ref = form.querySelector("[name=patrol_ref]");
    var id = form.querySelector("[name=activity_id]");
    return { patrol_ref: null, fields: { patrol_ref: ref ? ref.value : "", activity_id: id ? id.value : "" } };
  }

  // The claimed task a check-in counts for (its patrol_task_id field), unless
  // its window ended since the page was made (a page left open, or opened
  // from the offline cache): then the check-in is a free patrol, rather than
  // one the server refuses with everything walked after it.
  function chosenTask(form) {
    var chosen = form.querySelector("input[type=hidden][name=patrol_task_id], input[name=patrol_task_id]:checked");
    if (!chosen || !chosen.value) { return null; }
    var ends = Date.parse(chosen.getAttribute("data-ends") || "");
    if (!isNaN(ends) && Date.now() >= ends) { return null; }
    return { id: chosen.value, title: chosen.getAttribute("data-title") || "" };
  }

  // --- photos --------------------------------------------------------------------
  function canvasBlob(canvas, quality) {
    return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", quality); });
  }

  function shrink(file) {
    return createImageBitmap(file).then(function (bitmap) {
      var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
      function attempt(factor, quality) {
        var canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(bitmap.width * factor));
        canvas.height = Math.max(1, Math.round(bitmap.height * factor));
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        return canvasBlob(canvas, quality).then(function (blob) {
          if (blob.size <= MAX_BYTES || factor < 0.1) { return blob; }
          return quality > 0.5 ? attempt(factor, quality - 0.15) : attempt(factor * 0.8, 0.8);
        });
      }
      return attempt(scale, 0.85);
    });
  }

  // --- the forms -------------------------------------------------------------------
  function setUpForms() {
    var photoInput = document.getElementById("photo");
    var shrunk = null;
    if (photoInput) {
      photoInput.addEventListener("change", function () {
        var note = document.getElementById("photo-note");
        var file = photoInput.files && photoInput.files[0];
        shrunk = file ? shrink(file) : null;
        var preview = document.getElementById("photo-preview");
        if (preview.src) { URL.revokeObjectURL(preview.src); }
        preview.hidden = true;
        if (shrunk) {
          shrunk.then(function (blob) {
            note.textContent = note.getAttribute("data-ready").replace("{kb}", String(Math.ceil(blob.size / 1024)));
            preview.src = URL.createObjectURL(blob);
            preview.hidden = false;
          });
        }
      });
    }
    document.querySelectorAll("form[data-outbox]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var button = form.querySelector("button[type=submit]");
        if (button) { button.disabled = true; }
        var kind = form.getAttribute("data-outbox");
        var needsPosition = form.hasAttribute("data-needs-position");
        var positionNote = document.getElementById("position-note");
        var located = needsPosition ? locate() : Promise.resolve(null);
        var task = null;
        located.then(function (position) {
          if (position) { setPosition(form, position); }
          var extra = form.hasAttribute("data-patrol") ? patrolFields(form) : { fields: {} };
          if (kind === "check_in" && form.querySelector("[name=patrol_task_id]")) {
            task = chosenTask(form);
            extra.fields.patrol_task_id = task ? task.id : "";
          }
          var photo = kind === "report" && shrunk ? shrunk : Promise.resolve(null);
          return photo.then(function (blob) {
            extra.photo = blob;
            return queue(form, extra);
          });
        }).then(function (item) {
          if (kind === "check_in") {
            localStorage.setItem(PATROL + "." + member(), JSON.stringify({ ref: item.id, since: item.recorded, task: task ? task.title : "" }));
            // The claimed task went with this check-in; a later one on this page is a free patrol.
            form.querySelectorAll("#check-in-task, [name=patrol_task_id]").forEach(function (node) { node.remove(); });
          } else if (kind === "check_out") {
            localStorage.removeItem(PATROL + "." + member());
          }
          flash(form.getAttribute("data-sent"));
          if (kind === "report" || kind === "service") { form.reset(); shrunk = null; }
          if (kind === "report") {
            document.getElementById("photo-note").textContent = "";
            document.getElementById("photo-preview").hidden = true;
          }
          showPatrol();
          return render().then(function () { return sync(true); });
        }, function () {
          if (positionNote) { positionNote.textContent = positionNote.getAttribute("data-none"); }
          flash(positionNote ? positionNote.getAttribute("data-none") : "");
        }).then(function () {
          if (button) { button.disabled = false; }
        });
      });
    });
  }

  // --- the patrol page -----------------------------------------------------------------
  var routeTimer = null;

  function showPatrol() {
    var section = document.getElementById("patrol");
    if (!section) { return; }
    var mine = currentPatrol();
    var serverOpen = section.getAttribute("data-open-id");
    var walking = Boolean(mine || serverOpen) && !section.hasAttribute("data-ended");
    var state = document.getElementById("patrol-state");
    var taskLine = document.getElementById("walking-task");
    if (mine && taskLine) {
      taskLine.textContent = "";
      if (mine.task) {
        var named = document.createElement("strong");
        named.textContent = mine.task;
        taskLine.appendChild(document.createTextNode(taskLine.getAttribute("data-label")));
        taskLine.appendChild(named);
      }
      taskLine.hidden = !mine.task;
    }
    if (mine) {
      state.textContent = state.getAttribute("data-walking") + " " + chinaTime(mine.since);
    } else if (!walking) {
      state.textContent = state.getAttribute("data-idle");
    }
    document.getElementById("check-in").hidden = walking;
    document.getElementById("walking").hidden = !walking;
    if (walking && !routeTimer) {
      routeTimer = window.setInterval(function () {
        var form = document.getElementById("route-now");
        if (form && !document.getElementById("walking").hidden) { form.requestSubmit(); }
      }, ROUTE_EVERY_MS);
    }
    if (!walking && routeTimer) { window.clearInterval(routeTimer); routeTimer = null; }
  }

  function setUpPatrol() {
    var section = document.getElementById("patrol");
    if (!section) { return; }
    section.classList.add("scripted");
    var checkOut = document.getElementById("check-out");
    checkOut.addEventListener("submit", function () { section.setAttribute("data-ended", ""); section.removeAttribute("data-open-id"); });
    document.getElementById("check-in").addEventListener("submit", function () { section.removeAttribute("data-ended"); });
    // The server knows of no open patrol, and its check-in is no longer
    // waiting here: it was checked out (or refused) meanwhile.
    var mine = currentPatrol();
    if (mine && !section.getAttribute("data-open-id") && navigator.onLine) {
      allItems().then(function (items) {
        var queued = items.some(function (item) { return item.id === mine.ref || item.patrol_ref === mine.ref; });
        if (!queued) { localStorage.removeItem(PATROL + "." + member()); }
        showPatrol();
      });
    }
    showPatrol();
  }

  // Other scripts queue here too: the counter page (counter.js) queues a
  // scanned hand-over with its token, sent to the counter's sync URL. The
  // item gets its client_ref and the phone's time like any other.
  window.FenglingOutbox = {
    queueFields: function (kind, url, fields) {
      var ref = newRef();
      var now = new Date().toISOString();
      var all = { client_ref: ref, client_recorded_at: now };
      Object.keys(fields).forEach(function (name) { all[name] = fields[name]; });
      var item = {
        id: ref, seq: Date.now() + Math.random(), member: member(), kind: kind, url: url, multipart: false,
        fields: all, photo: null, patrol_ref: null, recorded: now, state: "waiting", attempts: 0, next_try: 0
      };
      return putItem(item).then(render).then(function () {
        sync(true).then(scheduleRetry);
        return item;
      });
    },
    // Whether an item of ``kind`` with this field value still waits (or
    // needs attention): a counter scanning the same QR twice queues it once.
    holds: function (kind, name, value) {
      return allItems().then(function (items) {
        return items.some(function (item) { return item.kind === kind && item.fields[name] === value; });
      });
    },
    sync: function () { return sync(true); }
  };

  document.addEventListener("DOMContentLoaded", function () {
    panel = document.getElementById("outbox");
    if (!panel || !("indexedDB" in window)) { return; }
    setUpForms();
    setUpPatrol();
    document.getElementById("outbox-sync").addEventListener("click", function () { sync(true).then(scheduleRetry); });
    window.addEventListener("online", function () { sync(true).then(scheduleRetry); });
    render().then(function () { return sync(false); }).then(scheduleRetry);
  });
})();
