// Autocomplete for the symbol inputs: suggestions from /api/symbols?search= (the REST API,
// authenticated by the session) fill the shared <datalist>, which the browser shows natively
// and keyboard users can walk with the arrow keys.
const list = document.getElementById("symbol-suggestions");
let timer = null;
let lastQuery = "";
let controller = null;

async function suggest(query) {
  if (controller) controller.abort();
  controller = new AbortController();
  try {
    const response = await fetch(`/api/symbols?search=${encodeURIComponent(query)}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      signal: controller.signal,
    });
    if (!response.ok) return;
    const body = await response.json();
    const results = Array.isArray(body.results) ? body.results : [];
    list.replaceChildren(
      ...results.slice(0, 10).map((r) => {
        const option = document.createElement("option");
        option.value = r.symbol;
        option.label = [r.name, r.exchange].filter(Boolean).join(" · ");
        return option;
      }),
    );
  } catch (err) {
    /* aborted or offline: keep the previous suggestions */
  }
}

function onInput(event) {
  const query = event.target.value.trim();
  if (query.length < 1 || query === lastQuery) return;
  lastQuery = query;
  clearTimeout(timer);
  timer = setTimeout(() => suggest(query), 150);
}

if (list) {
  // Delegated, so inputs swapped in by htmx keep working.
  document.addEventListener("input", (event) => {
    if (event.target.matches("[data-autocomplete]")) onInput(event);
  });
}
