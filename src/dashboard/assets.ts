// The dashboard's stylesheet and its one script, served by the app from /dashboard/assets/ (no CDN,
// no build step). The script makes pages live: it subscribes to activityRecorded over SSE on
// /dashboard/graphql (same origin, the session cookie authenticates it) and, when an event arrives,
// reloads the page in the background and swaps its [data-live] sections in place. A section the
// merchant is editing (data-keep-when-edited, e.g. the refund form) is left alone.

export const DASHBOARD_JS = `"use strict";
(function () {
  var main = document.querySelector("main[data-subscribe]");
  var status = document.getElementById("live-status");
  function setStatus(state, text) {
    if (!status) return;
    status.dataset.state = state;
    status.textContent = text;
  }
  document.addEventListener("input", function (event) {
    var section = event.target.closest && event.target.closest("[data-keep-when-edited]");
    if (section) section.dataset.edited = "true";
  });
  if (!main || !window.EventSource) return;
  var orderId = main.dataset.orderId || null;
  var query = orderId
    ? "subscription DashboardOrderActivity($orderId: ID!) { activityRecorded(orderId: $orderId) { id type orderId } }"
    : "subscription DashboardActivity { activityRecorded { id type orderId } }";
  var url = new URL("/dashboard/graphql", location.origin);
  url.searchParams.set("query", query);
  if (orderId) url.searchParams.set("variables", JSON.stringify({ orderId: orderId }));

  var refreshing = false;
  var again = false;
  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    // A page that answered a POST (the refund preview) reloads from its GET address.
    fetch(main.dataset.refreshUrl || location.href, { credentials: "same-origin", headers: { accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (text) {
        var next = new DOMParser().parseFromString(text, "text/html");
        next.querySelectorAll("[data-live]").forEach(function (fresh) {
          var current = fresh.id && document.getElementById(fresh.id);
          if (!current) return;
          if (current.dataset.edited === "true" || current.contains(document.activeElement)) return;
          current.replaceWith(document.importNode(fresh, true));
        });
        document.body.dataset.refreshedAt = String(Date.now());
      })
      .catch(function (error) { setStatus("error", "Live updates paused (" + error.message + ")"); })
      .then(function () {
        refreshing = false;
        if (again) { again = false; refresh(); }
      });
  }

  var source = new EventSource(url.toString(), { withCredentials: true });
  source.onopen = function () { setStatus("live", "Live"); };
  source.onerror = function () { setStatus("reconnecting", "Reconnecting…"); };
  source.addEventListener("next", function (event) {
    var payload = JSON.parse(event.data);
    if (payload.errors && payload.errors.length) {
      setStatus("error", "Live updates stopped: " + payload.errors[0].message);
      source.close();
      return;
    }
    refresh();
  });
  source.addEventListener("complete", function () {
    source.close();
    setStatus("off", "Live updates ended; reload the page");
  });
})();
`;

export const DASHBOARD_CSS = `
:root { color-scheme: light; --ink: #1f2328; --muted: #6b7280; --line: #e5e7eb; --accent: #1f6feb; --tax: #d97706; }
* { box-sizing: border-box; }
body { font-family: system-ui, sans-serif; margin: 0; color: var(--ink); background: #f8fafc; }
header.top { display: flex; align-items: center; gap: 1rem; padding: .7rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
header.top .brand { font-weight: 700; color: var(--ink); text-decoration: none; }
header.top nav { flex: 1; }
header.top nav a { color: var(--accent); text-decoration: none; }
.mode { font-size: .75rem; padding: .15rem .5rem; border-radius: 1rem; text-transform: uppercase; letter-spacing: .04em; }
.mode.test { background: #fef3c7; color: #92400e; }
.mode.live { background: #dcfce7; color: #166534; }
.live-status { font-size: .8rem; color: var(--muted); }
.live-status[data-state="live"] { color: #166534; }
.live-status[data-state="error"] { color: #8a1c1c; }
.sign-out { margin: 0; }
main { max-width: 72rem; margin: 1.5rem auto; padding: 0 1.5rem; }
section { background: #fff; border: 1px solid var(--line); border-radius: .5rem; padding: 1rem 1.2rem; margin: 1rem 0; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin-top: 0; }
table { width: 100%; border-collapse: collapse; margin: .5rem 0; }
td, th { padding: .4rem .5rem; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { font-size: .8rem; color: var(--muted); font-weight: 600; }
td.date { white-space: nowrap; }
.amount { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 700; }
.columns { display: grid; grid-template-columns: 1fr 1fr; gap: 1.5rem; }
.muted { color: var(--muted); font-size: .85rem; }
.status { font-size: .8rem; padding: .1rem .45rem; border-radius: .3rem; background: #eef2ff; }
.status-PAID { background: #dcfce7; } .status-PARTIALLY_REFUNDED, .status-REFUNDED { background: #fef3c7; } .status-CANCELED { background: #fde8e8; }
.error { background: #fde8e8; color: #8a1c1c; padding: .6rem .8rem; border-radius: .4rem; }
.notice { background: #eef6ee; padding: .6rem .8rem; border-radius: .4rem; }
.preview { border-color: var(--accent); }
form.search { display: flex; gap: .5rem; margin: 1rem 0; }
form.search input[type=search] { flex: 1; }
input, select, button { font: inherit; padding: .4rem .6rem; }
input.qty { width: 5rem; text-align: right; }
button { background: var(--accent); color: #fff; border: 0; border-radius: .4rem; cursor: pointer; }
.sign-out button { background: #fff; color: var(--ink); border: 1px solid var(--line); }
ol.timeline { list-style: none; padding: 0; margin: 0; }
ol.timeline li { padding: .35rem 0; border-bottom: 1px solid var(--line); }
ol.timeline time { color: var(--muted); font-size: .85rem; }
figure.chart { margin: 0 0 1rem; }
figure.chart svg { width: 100%; height: auto; background: #fff; }
figure.chart rect.revenue, .swatch.revenue { fill: var(--accent); background: var(--accent); }
figure.chart rect.tax, .swatch.tax { fill: var(--tax); background: var(--tax); }
figure.chart line.axis { stroke: var(--line); }
figure.chart text { font-size: 10px; fill: var(--muted); }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: .15rem; vertical-align: middle; }
.legend { font-size: .85rem; color: var(--muted); }
`;

/** The tab icon (browsers ask for one; without it every page logs a 404). */
export const DASHBOARD_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f6feb"/><path d="M5 3h7v2H7v2h4v2H7v4H5z" fill="#fff"/></svg>`;
