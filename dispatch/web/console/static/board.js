// The live board without reloading: rows pushed by server-sent events, else polled every
// 5 s; countdowns tick every second; the board's buttons post in the background. The
// page works without this script (it reloads every 15 s, forms post normally).
"use strict";
(function () {
  var board = document.getElementById("board");
  var said = document.getElementById("said");
  var live = document.getElementById("live");

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var left = Math.round((Date.parse(el.getAttribute("data-deadline")) - now) / 1000);
      el.textContent = left <= 0 ? "now" : Math.floor(left / 60) + ":" + pad(left % 60);
      el.classList.toggle("overdue", left <= 0);
    });
  }
  tick();
  setInterval(tick, 1000);
  if (!board) { return; }

  function show(text) { said.textContent = text; said.hidden = false; }
  function signedOut() { window.location.reload(); }  // the page then says why

  // Replace the rows, keeping what the person was doing: an open "Close" form, its text
  // and the focus.
  function replace(html, version) {
    var open = {}, values = {}, focused = document.activeElement && document.activeElement.id;
    board.querySelectorAll("details[open]").forEach(function (d) { open[d.id] = true; });
    board.querySelectorAll("input[name=outcome]").forEach(function (i) { values[i.id] = i.value; });
    board.innerHTML = html;
    if (version) { board.setAttribute("data-version", version); }
    Object.keys(open).forEach(function (id) { var d = document.getElementById(id); if (d) { d.open = true; } });
    Object.keys(values).forEach(function (id) { var i = document.getElementById(id); if (i) { i.value = values[id]; } });
    if (focused && document.getElementById(focused)) { document.getElementById(focused).focus(); }
    tick();
  }

  board.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.hasAttribute("data-enhance") || !window.fetch) { return; }
    ev.preventDefault();
    var button = form.querySelector("button");
    if (button) { button.disabled = true; }
    fetch(form.action, {
      method: "POST", credentials: "same-origin",
      headers: { "Accept": "application/json" },
      body: new URLSearchParams(new FormData(form))
    }).then(function (r) {
      if (r.status === 401) { signedOut(); return null; }
      return r.json();
    }).then(function (body) {
      if (body) { show(body.said); }
    }).catch(function () {
      show("Not sent: the connection failed. Try again.");
    }).finally(function () {
      if (button) { button.disabled = false; }
    });
  });

  var polling = null;
  function poll() {
    var url = board.getAttribute("data-rows") + "?since=" + encodeURIComponent(board.getAttribute("data-version"));
    fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (r.status === 401) { signedOut(); return; }
      live.textContent = polling ? "Updating every 5 s" : "Live";
      if (r.status === 200) {
        var version = r.headers.get("X-Board-Version");
        r.text().then(function (html) { replace(html, version); });
      }
    }).catch(function () { live.textContent = "Offline: retrying"; live.className = "live stale"; });
  }
  function startPolling() {
    if (polling) { return; }
    polling = setInterval(poll, 5000);
    poll();
  }
  if (!window.EventSource) { startPolling(); return; }
  var url = board.getAttribute("data-events") + "?since=" + encodeURIComponent(board.getAttribute("data-version"));
  var source = new EventSource(url);
  source.addEventListener("board", function (ev) { replace(ev.data, ev.lastEventId); });
  source.onopen = function () { live.textContent = "Live"; live.className = "live"; };
  source.onerror = function () {
    live.textContent = "Reconnecting"; live.className = "live stale";
    if (source.readyState === EventSource.CLOSED) { startPolling(); } else { poll(); }
  };
})();
