// Onboarding progress: renders /api/status, live through server-sent
// events, with polling as the fallback when the stream drops.
"use strict";
(function () {
  var LABELS = { pending: "Pending", installing: "Installing", installed: "Installed", failed: "Failed" };
  var INTROS = {
    done: "Your organisation's settings and apps are installed.",
    timed_out: "Your organisation's settings are in place; some apps are still on their way.",
    skipped: "Your organisation has nothing to set up on this Mac right now."
  };
  var OUTCOMES = {
    done: "Everything is installed. You can start working.",
    timed_out: "Setup is taking longer than planned. You can start working: the remaining apps keep installing in the background.",
    skipped: "There is nothing to set up on this Mac."
  };
  var last = null;

  function $(id) { return document.getElementById(id); }

  function text(el, s) { if (el.textContent !== s) el.textContent = s; }

  function settled(status) { return status === "installing" || status === "installed" || status === "failed"; }

  function stageDone(st) {
    for (var i = 0; i < st.items.length; i++) { if (!settled(st.items[i].status)) return false; }
    return true;
  }

  // The user reads what happened; the reason (a digest, installer output)
  // is for the IT team, who see it in the device's log on the server.
  function detail(st) {
    var n = st.items.length, ok = 0, failed = [];
    for (var i = 0; i < n; i++) {
      if (st.items[i].status === "installed") ok++;
      if (st.items[i].status === "failed") failed.push(st.items[i].name);
    }
    if (failed.length) {
      return (n > 1 ? failed.join(", ") + " could not be installed" : "Could not be installed") +
        ". Your IT team can see why.";
    }
    if (n > 1) return ok + " of " + n + " installed";
    return st.items[0] && st.items[0].kind === "profile" ? "Configuration" : "App";
  }

  function renderStages(r) {
    var ol = $("stages");
    while (ol.children.length > r.stages.length) ol.removeChild(ol.lastChild);
    r.stages.forEach(function (st, i) {
      var li = ol.children[i];
      if (!li) {
        li = document.createElement("li");
        li.className = "stage";
        li.innerHTML = '<span class="num" aria-hidden="true"></span><span class="what"><span class="name"></span>' +
          '<span class="detail"></span></span><span class="badge"></span>';
        ol.appendChild(li);
      }
      li.setAttribute("data-status", st.status);
      li.setAttribute("data-stage", String(i + 1));
      var label = LABELS[st.status] || st.status;
      text(li.querySelector(".num"), st.status === "installed" ? "\u2713" : st.status === "failed" ? "!" : String(i + 1));
      text(li.querySelector(".name"), st.name);
      text(li.querySelector(".detail"), " \u2014 " + detail(st));
      var badge = li.querySelector(".badge");
      badge.setAttribute("data-status", st.status);
      text(badge, label);
      li.setAttribute("aria-label", "Stage " + (i + 1) + " of " + r.stages.length + ": " + st.name + ", " + label);
    });
  }

  function timeLeft(r) {
    if (r.state !== "running" || !r.deadline) return "";
    var s = Math.max(0, Math.round((Date.parse(r.deadline) - Date.now()) / 1000));
    var m = Math.floor(s / 60);
    return (m > 0 ? m + " min " : "") + (s % 60) + " s left";
  }

  function render(r) {
    last = r;
    var main = $("main");
    main.setAttribute("data-state", r.state);
    renderStages(r);
    var total = r.stages.length, done = 0;
    r.stages.forEach(function (st) { if (stageDone(st)) done++; });
    var bar = $("bar");
    var summary = total === 0 ? (r.state === "pending" ? "Waiting to start" : "Nothing to install")
      : done + " of " + total + " stages done";
    bar.setAttribute("aria-valuemax", String(total));
    bar.setAttribute("aria-valuenow", String(done));
    bar.setAttribute("aria-valuetext", summary);
    $("bar-fill").style.width = (total ? Math.round(100 * done / total) : (r.state === "pending" ? 0 : 100)) + "%";
    text($("progress-text"), summary);
    text($("current"), r.state === "running" && r.current ? "Now installing: " + r.current : "");
    text($("time-left"), timeLeft(r));
    var outcome = $("outcome");
    if (OUTCOMES[r.state]) {
      text(outcome, OUTCOMES[r.state]);
      outcome.hidden = false;
      text($("title"), r.state === "done" ? "Your Mac is ready" : "Setting up your Mac");
      text($("intro"), INTROS[r.state]);
      document.title = $("title").textContent;
    } else {
      outcome.hidden = true;
    }
  }

  function poll() {
    fetch("/api/status", { cache: "no-store", credentials: "same-origin" })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (r) { if (r) render(r); })
      .catch(function () {})
      .then(function () { setTimeout(poll, 2000); });
  }

  function start() {
    if (window.EventSource) {
      var es = new EventSource("/api/events");
      es.addEventListener("status", function (e) { render(JSON.parse(e.data)); });
      es.onerror = function () { es.close(); setTimeout(poll, 1000); };
    } else {
      poll();
    }
    setInterval(function () { if (last) text($("time-left"), timeLeft(last)); }, 1000);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
