// "Explain this prediction": POST /api/explanation/{symbol} starts a job, then GET is polled
// for its progress until the explanation (text, key drivers, uncertainties, sources) is ready.
// Every request counts against the user's API rate limit, so polling starts after the job's
// estimated time (at most 2 s) and slows down from 1 s to 5 s between polls.
const FIRST_POLL_MAX_MS = 2000;
const POLL_MIN_MS = 1000;
const POLL_MAX_MS = 5000;
const GIVE_UP_MS = 240000;

function nextDelay(polls) {
  return Math.min(POLL_MIN_MS + polls * 500, POLL_MAX_MS);
}

function rateLimited(response, body) {
  const wait = Number(response.headers.get("Retry-After") || 0);
  const message = body?.error?.message || "API rate limit reached.";
  return wait ? `${message} Try again in ${Math.ceil(wait / 60)} min.` : message;
}

const box = document.querySelector("[data-explain]");
const button = box?.querySelector("[data-explain-button]");
const output = box?.querySelector("[data-explain-output]");

function csrfToken() {
  return box.querySelector("input[name=csrfmiddlewaretoken]")?.value || "";
}

function el(tag, attrs = {}, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function showProgress(fraction, label) {
  let progress = output.querySelector("progress");
  if (!progress) {
    output.replaceChildren();
    const wrap = el("div", { class: "explain-progress", "data-testid": "explain-progress" });
    const text = el("p", { id: "explain-progress-label", class: "small" });
    progress = el("progress", { max: "100", "aria-labelledby": "explain-progress-label" });
    wrap.append(text, progress);
    output.append(wrap);
  }
  if (fraction === null || fraction === undefined) {
    progress.removeAttribute("value");
  } else {
    progress.value = Math.round(Math.max(0, Math.min(1, Number(fraction))) * 100);
  }
  output.querySelector("#explain-progress-label").textContent = label;
  output.setAttribute("aria-busy", "true");
}

function showError(message) {
  output.setAttribute("aria-busy", "false");
  output.replaceChildren(el("p", { class: "form-errors", role: "alert", "data-testid": "explain-error" }, message));
  button.disabled = false;
}

function list(title, items, render) {
  if (!Array.isArray(items) || !items.length) return [];
  const ul = el("ul");
  items.forEach((item) => ul.append(render(item)));
  return [el("h3", {}, title), ul];
}

function showExplanation(explanation) {
  output.setAttribute("aria-busy", "false");
  const article = el("article", { class: "explanation", "data-testid": "explanation" });
  article.append(el("h3", {}, "Explanation"));
  String(explanation.text || "")
    .split(/\n{2,}/)
    .filter(Boolean)
    .forEach((para) => article.append(el("p", {}, para)));
  if (explanation.confidence !== undefined && explanation.confidence !== null) {
    article.append(el("p", { class: "small muted" }, `Confidence: ${Math.round(Number(explanation.confidence) * 100)}%`));
  }
  article.append(...list("Key drivers", explanation.key_drivers, (d) => el("li", {}, String(d))));
  article.append(...list("Uncertainties", explanation.uncertainties, (u) => el("li", {}, String(u))));
  article.append(
    ...list("Sources", explanation.sources, (s) => {
      const li = el("li");
      li.append(el("strong", {}, s.title || "Source"));
      if (s.relevance !== undefined && s.relevance !== null) {
        li.append(el("span", { class: "muted small" }, ` (relevance ${Number(s.relevance).toFixed(2)})`));
      }
      if (s.excerpt) li.append(el("blockquote", {}, s.excerpt));
      return li;
    }),
  );
  if (explanation.generated_at) {
    article.append(el("p", { class: "small muted" }, `Generated ${explanation.generated_at}`));
  }
  output.replaceChildren(article);
  button.disabled = false;
}

function errorMessage(body, status) {
  return body?.error?.message || body?.message || `The explanation service answered ${status}.`;
}

async function readBody(response) {
  try {
    return await response.json();
  } catch (err) {
    return null;
  }
}

async function poll(started, polls = 0) {
  if (Date.now() - started > GIVE_UP_MS) {
    showError("The explanation is taking too long. Please try again later.");
    return;
  }
  let response;
  try {
    response = await fetch(box.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  } catch (err) {
    showError("Network error while checking the explanation.");
    return;
  }
  const body = await readBody(response);
  if (response.status === 200 && body?.status === "completed") {
    showExplanation(body.explanation || {});
  } else if (response.status === 202 || body?.status === "processing" || body?.status === "queued") {
    const p = body?.progress;
    showProgress(p, p === undefined || p === null ? "Working…" : `Working… ${Math.round(Number(p) * 100)}%`);
    setTimeout(() => poll(started, polls + 1), nextDelay(polls));
  } else if (response.status === 429) {
    showError(rateLimited(response, body));
  } else if (response.status === 404) {
    showError(errorMessage(body, 404) || "No explanation job was found.");
  } else {
    showError(errorMessage(body, response.status));
  }
}

async function start() {
  button.disabled = true;
  showProgress(null, "Requesting an explanation…");
  const depth = box.querySelector("select[name=depth]")?.value || "medium";
  let response;
  try {
    response = await fetch(box.dataset.url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ depth }),
    });
  } catch (err) {
    showError("Network error: the explanation could not be requested.");
    return;
  }
  const body = await readBody(response);
  if (response.status === 200 && body?.status === "completed" && body.explanation) {
    showExplanation(body.explanation);
  } else if (response.status === 202 || response.status === 200) {
    showProgress(body?.progress ?? 0, "Explanation queued…");
    const estimate = Number(body?.estimated_time_sec || 1) * 1000;
    setTimeout(() => poll(Date.now()), Math.min(Math.max(estimate, POLL_MIN_MS), FIRST_POLL_MAX_MS));
  } else if (response.status === 429) {
    showError(rateLimited(response, body));
  } else {
    showError(errorMessage(body, response.status));
  }
}

if (button && output) button.addEventListener("click", start);
// The form only groups the controls: never submit it (an inline onsubmit would break the CSP).
box?.querySelector("form")?.addEventListener("submit", (event) => event.preventDefault());
