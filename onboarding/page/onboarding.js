// Onboarding progress: renders /api/status, live through server-sent
// events, with polling as the fallback when the stream drops. Every count,
// list and outcome comes from the report's progress, computed by the agent
// (package onboarding), so the page says what the terminal and the server
// say: this file only words it.
"use strict";
(function () {
  var LABELS = { pending: "Pending", installing: "Installing", installed: "Installed", failed: "Failed" };
  var HELP = "Your IT team can see what went wrong; contact them if you need help.";
  // Copy for each finished outcome; lists are filled in from the report.
  var COPY = {
    done: {
      title: "Your Mac is ready",
      intro: "Setup is complete.",
      outcome: function (p) {
        return p.now_installing.length ? "You can start working. Still installing: " + names(p.now_installing) + "."
          : "Everything is installed. You can start working.";
      }
    },
    done_with_failures: {
      title: "Setup finished, with problems",
      intro: "Not everything could be installed.",
      outcome: function (p) {
        return failures(p) + " " + HELP + " You can start working." + still(p, " Still installing: ");
      }
    },
    timed_out: {
      title: "Setup continues in the background",
      intro: "Setup is taking longer than planned. You can start working now.",
      outcome: function (p) {
        var left = p.now_installing.concat(p.queued, p.waiting_for);
        var s = left.length ? "Still to come: " + names(left) + ". They install in the background while you work."
          : "What is left installs in the background while you work.";
        return s + (p.failed.length ? " " + failures(p) + " " + HELP : "");
      }
    },
    skipped: {
      title: "Nothing to set up",
      intro: "Your organisation has nothing to set up on this Mac right now.",
      outcome: function () { return "There is nothing to set up on this Mac. You can start working."; }
    }
  };
  var last = null;

  function $(id) { return document.getElementById(id); }

  function text(el, s) { if (el.textContent !== s) el.textContent = s; }

  function names(list) { return list.join(", "); }

  function failures(p) { return p.failed.map(function (f) { return f.message; }).join(" "); }

  function still(p, label) { return p.now_installing.length ? label + names(p.now_installing) + "." : ""; }

  // progress gives the lists the report leaves out when empty.
  function progress(r) {
    var p = r.progress || { outcome: "pending", stages_done: 0, stages_total: 0 };
    ["now_installing", "waiting_for", "queued", "failed"].forEach(function (k) { if (!p[k]) p[k] = []; });
    return p;
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
    var p = progress(r);
    var main = $("main");
    main.setAttribute("data-state", r.state);
    main.setAttribute("data-outcome", p.outcome);
    renderStages(r);
    var total = p.stages_total, done = p.stages_done;
    var bar = $("bar");
    var summary = total === 0 ? (p.outcome === "pending" ? "Waiting to start" : "Nothing to install")
      : done + " of " + total + " stages done";
    bar.setAttribute("aria-valuemax", String(total));
    bar.setAttribute("aria-valuenow", String(done));
    bar.setAttribute("aria-valuetext", summary);
    $("bar-fill").style.width = (total ? Math.round(100 * done / total) : (p.outcome === "pending" ? 0 : 100)) + "%";
    text($("progress-text"), summary);
    var running = p.outcome === "running";
    text($("current"), running && p.now_installing.length ? "Now installing: " + names(p.now_installing) : "");
    text($("waiting"), running && p.waiting_for.length ? "Waiting for: " + names(p.waiting_for) : "");
    text($("time-left"), timeLeft(r));
    var outcome = $("outcome"), copy = COPY[p.outcome];
    if (copy) {
      text(outcome, copy.outcome(p));
      outcome.hidden = false;
      text($("title"), copy.title);
      text($("intro"), copy.intro);
      document.title = copy.title;
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
