// Apps@Work: renders the catalog the agent serves at /api/state, live
// through /api/events. Plain DOM building: no markup is ever made from
// catalog text, so a name or review cannot inject anything.
"use strict";

(function () {
  let state = null;      // last State from the agent
  let loadError = "";    // the agent could not be reached
  const view = document.getElementById("view");
  const alertBox = document.getElementById("alert");
  const live = document.getElementById("live");
  const q = document.getElementById("q");
  const cat = document.getElementById("cat");

  function el(tag, attrs, ...kids) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") n.className = v;
      else if (k === "text") n.textContent = v;
      else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? "" : v);
    }
    for (const kid of kids.flat()) {
      if (kid === null || kid === undefined || kid === false) continue;
      n.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
    }
    return n;
  }

  // Routes: #/ (grid, with ?q=...&cat=...) and #/app/ID (detail).
  function route() {
    const h = location.hash.replace(/^#/, "") || "/";
    const [path, query] = h.split("?");
    const params = new URLSearchParams(query || "");
    const m = path.match(/^\/app\/([^/]+)$/);
    return { app: m ? decodeURIComponent(m[1]) : null, q: params.get("q") || "", cat: params.get("cat") || "" };
  }

  function gridHash(qv, cv) {
    const p = new URLSearchParams();
    if (qv) p.set("q", qv);
    if (cv) p.set("cat", cv);
    const s = p.toString();
    return "#/" + (s ? "?" + s : "");
  }

  const statusText = {
    installed: "Installed", installing: "Installing…", failed: "Install failed",
    managed: "Not installed yet · deployed by your IT team", available: "Not installed",
    update: "Update available",
  };

  function stars(rating) {
    const full = Math.round(rating);
    return "★".repeat(full) + "☆".repeat(5 - full);
  }

  function ratingLabel(r) {
    return "Rated " + r.toFixed(1).replace(/\.0$/, "") + " out of 5";
  }

  // imageFailed replaces a refused image by a visible error that says why.
  function imageFailed(img, cls) {
    const box = el("div", { class: cls + " img-error", role: "img", "aria-label": "Image unavailable" }, "Image unavailable");
    img.replaceWith(box);
    fetch(img.getAttribute("src"), { credentials: "same-origin" })
      .then((r) => r.json())
      .then((j) => {
        if (j && j.error) {
          const refused = j.error.startsWith("image refused");
          const msg = refused ? "Image refused: it does not match what your organisation signed" : "Image unavailable";
          // A small icon has room for the gist only; the whole reason is
          // in its text alternative and tooltip.
          box.textContent = cls.startsWith("icon") ? (refused ? "Image refused" : "No image") : msg;
          box.setAttribute("aria-label", msg);
          box.title = j.error;
          box.dataset.error = j.error;
        }
      })
      .catch(() => {});
  }

  function icon(a, big) {
    const cls = "icon" + (big ? " big" : "");
    if (!a.icon) {
      return el("div", { class: cls + " letter", "aria-hidden": "true" }, (a.name || "?").slice(0, 1).toUpperCase());
    }
    const img = el("img", {
      class: cls, src: "/api/apps/" + encodeURIComponent(a.id) + "/icon",
      alt: big ? (a.icon.alt || a.name + " icon") : "", width: big ? 96 : 56, height: big ? 96 : 56,
    });
    img.addEventListener("error", () => imageFailed(img, cls));
    return img;
  }

  function installControl(a, key) {
    if (a.installable && (a.status === "available" || a.status === "failed" || a.status === "update")) {
      const verb = { failed: "Try again", update: "Update" }[a.status] || "Install";
      return el("button", {
        class: "install", type: "button", "data-key": key, "data-app": a.id,
        "aria-label": (a.status === "failed" ? "Try again to install " : verb + " ") + a.name,
        onclick: () => install(a),
      }, verb);
    }
    if (a.status === "installing") {
      return el("button", { class: "install", type: "button", disabled: true, "data-key": key }, "Installing…");
    }
    return el("span", { class: "pill " + a.status, "data-status": a.status }, statusText[a.status] || a.status);
  }

  function tile(a) {
    return el("li", { "data-app": a.id, "data-status": a.status },
      el("div", { class: "tile" },
        el("a", { class: "tile-link", href: "#/app/" + encodeURIComponent(a.id), "data-key": "tile-" + a.id },
          icon(a, false),
          el("div", null,
            el("h2", { class: "name" }, a.name),
            el("p", { class: "meta" }, a.category || "Uncategorised"))),
        a.short_description ? el("p", { class: "short" }, a.short_description) : null,
        el("div", { class: "tile-foot" },
          a.status === "failed" ? el("span", { class: "pill failed" }, "Install failed") : el("span"),
          installControl(a, "install-" + a.id))));
  }

  function emptyState(title, text, action) {
    return el("div", { class: "empty" }, el("h2", null, title), el("p", null, text), action || null);
  }

  function renderGrid(r) {
    const apps = state.apps;
    if (apps.length === 0) {
      if (!state.received_at) {
        return emptyState("Waiting for your organisation’s catalog",
          "This Mac has not received its catalog yet. Apps will appear here by themselves after the next check-in.");
      }
      return emptyState("No apps yet",
        "Your organisation has not made any apps available to this Mac. They will appear here by themselves.");
    }
    const needle = r.q.trim().toLowerCase();
    const shown = apps.filter((a) =>
      (!r.cat || a.category === r.cat) &&
      (!needle || [a.name, a.publisher, a.category, a.short_description].some((t) => (t || "").toLowerCase().includes(needle))));
    if (shown.length === 0) {
      return emptyState("No matching apps",
        "No app matches " + (needle ? "“" + r.q.trim() + "”" : "this filter") + (r.cat ? " in " + r.cat : "") + ".",
        el("button", { class: "linkish", type: "button", "data-key": "clear", onclick: () => { location.hash = "#/"; } }, "Show all apps"));
    }
    const frag = document.createDocumentFragment();
    frag.append(el("p", { class: "count", id: "count" }, shown.length === apps.length ? apps.length + (apps.length === 1 ? " app" : " apps") : shown.length + " of " + apps.length + " apps"));
    frag.append(el("ul", { class: "grid", "aria-label": "Apps" }, shown.map(tile)));
    return frag;
  }

  function formatDate(s) {
    const d = new Date(s);
    return isNaN(d) ? "" : d.toLocaleDateString(undefined, { year: "numeric", month: "long", day: "numeric" });
  }

  // installError says in plain words why an install failed; the agent's
  // exact message stays available for the help desk.
  function installError(err) {
    const tampered = /SHA-256|size does not match|not a PNG/.test(err);
    return el("div", { class: "error-text", id: "install-error", role: "alert" },
      el("p", null, tampered
        ? "Not installed: the download did not match what your organisation published, so it was refused. Nothing was changed on this Mac."
        : "The install did not finish. You can try again; if it keeps failing, contact your IT team."),
      el("details", null, el("summary", null, "Technical details"), el("code", null, err)));
  }

  function renderDetail(id) {
    const a = state.apps.find((x) => x.id === id);
    const back = el("a", { class: "back", href: "#/", "data-key": "back" }, "← All apps");
    if (!a) {
      return [back, emptyState("App not available", "This app is not, or no longer, in your catalog.")];
    }
    const reviews = a.reviews || [];
    const head = el("div", { class: "detail-head" },
      icon(a, true),
      el("div", null,
        el("h2", { id: "app-title" }, a.name),
        el("p", { class: "meta" }, [a.publisher, a.category, a.version ? "Version " + a.version : ""].filter(Boolean).join(" · ")),
        a.rating > 0 ? el("div", { class: "rating", id: "rating" },
          el("span", { class: "stars", role: "img", "aria-label": ratingLabel(a.rating) }, stars(a.rating)),
          el("span", null, a.rating.toFixed(1) + " out of 5 · " + reviews.length + (reviews.length === 1 ? " review" : " reviews")))
          : el("p", { class: "meta", id: "rating" }, "No ratings yet"),
        el("div", { class: "actions" }, installControl(a, "install-" + a.id),
          (a.status === "installed" || a.status === "update") && a.installed_version ? el("span", { class: "meta" }, "Version " + a.installed_version + " on this Mac") : null),
        a.status === "failed" && a.error ? installError(a.error) : null));
    const parts = [back, head];
    const desc = (a.description || a.short_description || "").split(/\n+/).filter((t) => t.trim());
    parts.push(el("section", { class: "block desc", "aria-labelledby": "h-desc" },
      el("h3", { id: "h-desc" }, "About this app"),
      desc.length ? desc.map((t) => el("p", null, t)) : el("p", { class: "meta" }, "No description.")));
    if ((a.screenshots || []).length) {
      parts.push(el("section", { class: "block", "aria-labelledby": "h-shots" },
        el("h3", { id: "h-shots" }, "Screenshots"),
        el("ul", { class: "gallery", id: "gallery" }, a.screenshots.map((s, i) => {
          const img = el("img", { src: "/api/apps/" + encodeURIComponent(a.id) + "/screenshots/" + i, alt: s.alt || "Screenshot " + (i + 1), loading: "lazy" });
          img.addEventListener("error", () => imageFailed(img, "shot"));
          return el("li", null, el("figure", null, img, s.alt ? el("figcaption", null, s.alt) : null));
        }))));
    }
    parts.push(el("section", { class: "block", "aria-labelledby": "h-reviews" },
      el("h3", { id: "h-reviews" }, "Ratings and reviews"),
      reviews.length ? el("ul", { class: "reviews", id: "reviews" }, reviews.map((rv) =>
        el("li", null,
          el("div", { class: "review-head" },
            el("strong", null, rv.author),
            el("span", { class: "stars", role: "img", "aria-label": ratingLabel(rv.rating) }, stars(rv.rating)),
            el("time", { datetime: rv.date }, formatDate(rv.date))),
          rv.text ? el("p", null, rv.text) : null)))
        : el("p", { class: "meta" }, "No reviews yet.")));
    return parts;
  }

  function render() {
    const r = route();
    alertBox.textContent = loadError || (state && state.error) || "";
    if (!state) {
      if (loadError) view.replaceChildren(emptyState("Apps@Work is not available", "The Mobile@Work agent on this Mac did not answer. It will be tried again in a few seconds."));
      return;
    }
    // Keep the filter controls in step with the address.
    const cats = state.categories || [];
    if (cat.options.length !== cats.length + 1 || cats.some((c, i) => cat.options[i + 1].value !== c)) {
      cat.replaceChildren(el("option", { value: "" }, "All categories"), ...cats.map((c) => el("option", { value: c }, c)));
    }
    if (document.activeElement !== q) q.value = r.q;
    cat.value = r.cat;
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.key : null;
    const content = r.app ? renderDetail(r.app) : renderGrid(r);
    view.replaceChildren(...[content].flat());
    document.title = r.app && state.apps.find((x) => x.id === r.app) ? state.apps.find((x) => x.id === r.app).name + " – Apps@Work" : "Apps@Work";
    if (focused) {
      const again = view.querySelector('[data-key="' + CSS.escape(focused) + '"]');
      if (again && !again.disabled) again.focus();
    }
  }

  async function install(a) {
    live.textContent = "Installing " + a.name + "…";
    try {
      const r = await fetch("/api/apps/" + encodeURIComponent(a.id) + "/install", { method: "POST", credentials: "same-origin" });
      if (!r.ok) {
        const j = await r.json().catch(() => ({}));
        alertBox.textContent = "Could not install " + a.name + ": " + (j.error || r.statusText);
      }
    } catch (e) {
      alertBox.textContent = "Could not reach the Mobile@Work agent to install " + a.name + ".";
    }
    refresh();
  }

  function announce(prev, next) {
    if (!prev) return;
    for (const a of next.apps) {
      const p = prev.apps.find((x) => x.id === a.id);
      if (p && p.status !== a.status) {
        live.textContent = a.name + ": " + (statusText[a.status] || a.status);
      }
    }
  }

  function setState(s) {
    if (state && s.seq < state.seq) return; // overtaken by a newer state
    announce(state, s);
    state = s;
    loadError = "";
    render();
  }

  async function refresh() {
    try {
      const r = await fetch("/api/state", { credentials: "same-origin", cache: "no-store" });
      if (!r.ok) throw new Error(r.statusText);
      setState(await r.json());
    } catch (e) {
      loadError = "The Mobile@Work agent did not answer; retrying.";
      render();
      setTimeout(refresh, 5000);
    }
  }

  function listen() {
    const es = new EventSource("/api/events");
    es.addEventListener("state", (e) => setState(JSON.parse(e.data)));
    // EventSource reconnects by itself; the snapshot on reconnect resyncs.
  }

  let typing;
  q.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { history.replaceState(null, "", gridHash(q.value, cat.value)); render(); }, 120);
  });
  cat.addEventListener("change", () => { location.hash = gridHash(q.value, cat.value); });
  document.getElementById("filters").addEventListener("submit", (e) => { e.preventDefault(); location.hash = gridHash(q.value, cat.value); });
  window.addEventListener("hashchange", () => {
    render();
    // Move focus to the new content, as a page load would, for keyboards
    // and screen readers.
    const title = document.getElementById("app-title");
    if (title) { title.setAttribute("tabindex", "-1"); title.focus(); } else if (route().app === null && document.activeElement !== q && document.activeElement !== cat) document.getElementById("main").focus();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "/" && document.activeElement !== q) { e.preventDefault(); q.focus(); }
    if (e.key === "Escape" && route().app) location.hash = "#/";
  });

  refresh();
  listen();
})();
