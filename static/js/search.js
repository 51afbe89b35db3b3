// Autocomplete for the symbol inputs: suggestions from /api/symbols?search= (the REST API,
// authenticated by the session) fill the shared <datalist>, which the browser shows natively
// and keyboard users can walk with the arrow keys. API calls count against the user's rate
// limit: inputs are debounced, answers are cached per query, and a 429 pauses suggestions.
const list = document.getElementById("symbol-suggestions");
const DEBOUNCE_MS = 250;
const cache = new Map();
let timer = null;
let lastQuery = "";
let controller = null;
let pausedUntil = 0;

function show(results) {
  list.replaceChildren(
    ...results.slice(0, 10).map((r) => {
      const option = document.createElement("option");
      option.value = r.symbol;
      option.label = [r.name, r.exchange].filter(Boolean).join(" · ");
      return option;
    }),
  );
}

async function suggest(query) {
  if (cache.has(query)) return show(cache.get(query));
  if (Date.now() < pausedUntil) return;
  if (controller) controller.abort();
  controller = new AbortController();
  try {
    const response = await fetch(`/api/symbols?search=${encodeURIComponent(query)}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: controller.signal,
    });
    if (response.status === 429) {
      pausedUntil = Date.now() + 1000 * Number(response.headers.get("Retry-After") || 60);
      return;
    }
    if (!response.ok) return;
    const body = await response.json();
    const results = Array.isArray(body.results) ? body.results : [];
    cache.set(query, results);
    show(results);
  } catch (err) {
    /* aborted or offline: keep the previous suggestions */
  }
}

function onInput(event) {
  const query = event.target.value.trim().toUpperCase();
  if (query.length < 1 || query === lastQuery) return;
  lastQuery = query;
  clearTimeout(timer);
  timer = setTimeout(() => suggest(query), DEBOUNCE_MS);
}

if (list) {
  // Delegated, so inputs swapped in by htmx keep working.
  document.addEventListener("input", (event) => {
    if (event.target.matches("[data-autocomplete]")) onInput(event);
  });
}
