// The counter screen: find a customer as you type, scan a card, open the 360 view.
// Plain JavaScript, no build step. Every value from the server is inserted as text; only the
// <mark> tags of highlights are kept, after escaping everything else.
"use strict";

const KEY_STORAGE = "rcu.apiKey";
const DEBOUNCE_MS = 120;
const SCANNER_MAX_INTERVAL_MS = 40; // a barcode scanner "types" faster than any hand
const CARD_LIKE = /^[0-9][0-9 -]{5,}$/;

const LABELS = {
  civility: "Civilité", given_name: "Prénom", family_name: "Nom", birth_name: "Nom de naissance",
  birth_date: "Date de naissance", phones: "Téléphones", emails: "E-mails", street: "Rue", postcode: "Code postal",
  city: "Ville", loyalty_cards: "Cartes de fidélité", phone: "Téléphone", email: "E-mail", loyalty_card: "Carte",
  country: "Pays", source: "Source", source_id: "Identifiant", updated_at: "Mis à jour",
};
const RULES = { source_priority: "source prioritaire", most_recent: "plus récent", rectification: "rectifié" };
const PURPOSES = {
  marketing_email: "Prospection par e-mail", marketing_sms: "Prospection par SMS", marketing_phone: "Prospection par téléphone",
  marketing_post: "Prospection par courrier", profiling: "Profilage", partner_sharing: "Partage avec des partenaires",
  restriction: "Limitation du traitement",
};
const STATUSES = { granted: "accepté", refused: "refusé", requested: "demandée", lifted: "levée" };
// Why two customers possibly the same person were not merged (the API's `rule`; null: below the threshold).
const HELD_APART = {
  different_birth_dates: "dates de naissance différentes",
  different_sex: "Monsieur et Madame",
  different_given_names: "prénoms différents",
  different_personal_contacts: "chacun son e-mail et son mobile, rien de personnel en commun",
  namesakes_at_home: "même nom à la même adresse, chacun son propre contact ou son propre compte dans un même système, et ces données comptent des homonymes sous un même toit",
  name_alone_against_other_records: "seul le nom les relie, leurs autres fiches divergent",
  name_and_postcode_against_two_addresses: "seuls le nom et le code postal les relient, et ils habitent deux adresses de ce code postal",
  name_alone_fits_several_customers: "seul le nom les relie, et il correspond à plusieurs clients",
  household_values_fit_two_people: "ne porte que ce que partage un foyer, et correspond à deux personnes du même foyer",
  name_alone_below_weak_link_bar: "seul le nom les relie, trop peu sûrement pour les réunir",
  max_cluster_size: "fiche client trop volumineuse pour fusionner",
  kept_apart_by_steward_contested: "un gestionnaire les a déclarés différents, mais une nouvelle fiche les relie",
};
const BELOW_THRESHOLD = "ressemblance insuffisante pour fusionner";
const PERCENT = new Intl.NumberFormat("fr-FR", { style: "percent", maximumFractionDigits: 0 });
const IGNORED_KINDS = {
  names: "les noms", phone: "les numéros de téléphone", email: "les e-mails", card: "les cartes de fidélité",
  postcode: "les codes postaux", departement: "les départements", birth_date: "les dates de naissance",
};
const IGNORED_WHY = {
  not_allowed: (kind) => `votre rôle ne permet ni de rechercher ni de vérifier ${kind}.`,
  verify_only: (kind) => `${kind} servent seulement à confirmer un client trouvé par son nom : tapez aussi le nom.`,
};

const $ = (id) => document.getElementById(id);
const state = { key: sessionStorage.getItem(KEY_STORAGE), me: null, seq: 0, controller: null, results: [], selected: -1, keyTimes: [], timer: null };

class Handled extends Error {}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// What the agent reads when the API refuses a request: French, by status and by what was asked,
// never the API's own `detail` (written for integrators, in English).
const REFUSED = {
  search: { 422: "Recherche non comprise : tapez de 2 à 200 caractères (nom, téléphone, e-mail, carte…).", 403: "Votre rôle ne permet pas la recherche." },
  card: { 422: "Numéro de carte invalide.", 403: "Votre rôle ne permet pas la lecture des cartes." },
  customer: { 404: "Client introuvable.", 410: "Ce client a été effacé à sa demande.", 422: "Identifiant de client invalide.", 403: "Votre rôle ne permet pas d'ouvrir cette fiche." },
  action: { 422: "action plus proposée, refus sans motif ou canal non autorisé", 403: "votre rôle ne le permet pas", 404: "client introuvable", 409: "la fiche a changé : rechargez-la" },
};

function refusedText(kind, status) {
  return REFUSED[kind][status] || `Demande refusée (code ${status}).`;
}

function marked(fragment) {
  return escapeHtml(fragment).replace(/&lt;mark&gt;/g, "<mark>").replace(/&lt;\/mark&gt;/g, "</mark>");
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "html") node.innerHTML = value; else if (name === "text") node.textContent = value; else node.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function showAlert(message) {
  $("alert").textContent = message;
  $("alert").hidden = !message;
}

function formatDate(value) {
  if (!value) return "";
  if (/^\d{4}$/.test(value)) return value;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? date.toLocaleDateString("fr-FR", { timeZone: "UTC" }) : date.toLocaleString("fr-FR");
}

async function call(path, signal) {
  let response;
  try {
    response = await fetch(path, { headers: { "X-API-Key": state.key }, signal });
  } catch (error) {
    if (error.name === "AbortError") throw error;
    showAlert("Service injoignable. Vérifiez la connexion puis réessayez.");
    throw new Handled();
  }
  if (response.status === 401) {
    signOut("Clé refusée : vérifiez-la ou demandez-en une nouvelle.");
    throw new Handled();
  }
  if (response.status === 503 || response.status >= 500) {
    showAlert("Service momentanément indisponible. Réessayez dans quelques secondes.");
    throw new Handled();
  }
  showAlert("");
  return response;
}

async function send(path, body) {
  let response;
  try {
    response = await fetch(path, { method: "POST", headers: { "X-API-Key": state.key, "Content-Type": "application/json" }, body: JSON.stringify(body) });
  } catch (error) {
    showAlert("Service injoignable. Vérifiez la connexion puis réessayez.");
    throw new Handled();
  }
  if (response.status >= 500) {
    showAlert("Service momentanément indisponible. Réessayez dans quelques secondes.");
    throw new Handled();
  }
  return response;
}

// --- session ---------------------------------------------------------------------------------

async function signIn(key) {
  state.key = key;
  const response = await call("/v1/me");
  if (!response.ok) throw new Handled();
  state.me = await response.json();
  sessionStorage.setItem(KEY_STORAGE, key);
  $("role-label").textContent = `${state.me.name} (${state.me.role}${state.me.shop ? `, boutique ${state.me.shop}` : ""})`;
  $("session").hidden = false;
  route();
}

function signOut(message = "") {
  sessionStorage.removeItem(KEY_STORAGE);
  Object.assign(state, { key: null, me: null, results: [], selected: -1 });
  $("session").hidden = true;
  $("search").hidden = true;
  $("customer").hidden = true;
  $("sign-in").hidden = false;
  $("api-key").value = "";
  showAlert(message);
  $("api-key").focus();
}

// --- search ----------------------------------------------------------------------------------

function scheduleSearch() {
  clearTimeout(state.timer);
  state.timer = setTimeout(runSearch, DEBOUNCE_MS);
}

async function runSearch() {
  const q = $("q").value.trim();
  const seq = ++state.seq;
  if (state.controller) state.controller.abort();
  if (q.length < 2) {
    render([], "");
    return;
  }
  state.controller = new AbortController();
  try {
    const response = await call(`/v1/search?${new URLSearchParams({ q, limit: "10" })}`, state.controller.signal);
    const body = await response.json();
    if (seq !== state.seq) return; // a later keystroke has its own answer coming
    if (!response.ok) {
      render([], refusedText("search", response.status));
      return;
    }
    render(body.results, body.results.length ? `${body.results.length} client(s) trouvé(s)` : "Aucun client trouvé.", body.ignored);
  } catch (error) {
    if (error.name !== "AbortError" && !(error instanceof Handled)) throw error;
  }
}

function resultName(result) {
  const h = result.highlights || {};
  const given = (h.given_name || [])[0];
  const family = (h.family_name || [])[0];
  if (given || family) {
    const c = result.customer;
    return `${given ? marked(given) : escapeHtml(c.given_name || "")} ${family ? marked(family) : escapeHtml(c.family_name || "")}`.trim();
  }
  return escapeHtml(result.display_name || `Client ${result.customer_id}`);
}

function ignoredText(part) {
  const kind = IGNORED_KINDS[part.kind] || part.kind;
  const why = IGNORED_WHY[part.code];
  return `Non pris en compte : ${why ? why(kind) : kind}`;
}

function render(results, status, ignored = []) {
  state.results = results;
  state.selected = results.length ? 0 : -1;
  $("status").textContent = status;
  $("ignored").replaceChildren(...ignored.map((part) => el("li", { text: ignoredText(part) })));
  $("ignored").hidden = !ignored.length;
  const list = $("results");
  list.replaceChildren();
  results.forEach((result, index) => {
    const c = result.customer;
    const meta = [c.city, c.birth_date ? `né(e) en ${String(c.birth_date).slice(0, 4)}` : null, (c.phones || [])[0]].filter(Boolean).join(" · ");
    const cards = (c.loyalty_cards || []).map((card) => `${card.card} (${card.source.replace("loyalty_", "")})`).join(", ");
    const item = el("li", { class: "result", role: "option", id: `result-${index}`, "data-customer": result.customer_id, tabindex: "-1" },
      el("span", { class: "name", html: resultName(result) }),
      el("span", { class: "meta sources", text: `${result.records.length} fiche(s) : ${[...new Set(result.records.map((r) => r.source))].join(", ")}` }),
      el("span", { class: "meta", text: meta }),
      cards ? el("span", { class: "cards", text: `Cartes : ${cards}` }) : null);
    item.addEventListener("click", () => openCustomer(result.customer_id));
    list.append(item);
  });
  highlightSelection();
}

function highlightSelection() {
  [...$("results").children].forEach((item, index) => item.setAttribute("aria-selected", String(index === state.selected)));
  $("q").setAttribute("aria-activedescendant", state.selected >= 0 ? `result-${state.selected}` : "");
}

function looksScanned() {
  const times = state.keyTimes.slice(-8);
  if (times.length < 6) return false;
  const intervals = times.slice(1).map((t, i) => t - times[i]);
  return intervals.reduce((a, b) => a + b, 0) / intervals.length < SCANNER_MAX_INTERVAL_MS;
}

async function scanCard(value) {
  clearTimeout(state.timer);
  state.seq++; // drop any search in flight
  const response = await call(`/v1/cards/${encodeURIComponent(value)}`);
  const body = await response.json();
  if (response.ok) {
    openCustomer(body.customer_id);
  } else {
    render([], response.status === 404 ? `Carte inconnue : ${value}` : refusedText("card", response.status));
  }
}

function onSearchKey(event) {
  if (event.key.length === 1) state.keyTimes.push(performance.now());
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    if (!state.results.length) return;
    const step = event.key === "ArrowDown" ? 1 : -1;
    state.selected = (state.selected + step + state.results.length) % state.results.length;
    highlightSelection();
    $(`result-${state.selected}`).scrollIntoView({ block: "nearest" });
  } else if (event.key === "Enter") {
    event.preventDefault();
    const value = $("q").value.trim();
    const scanned = looksScanned();
    state.keyTimes = [];
    if (CARD_LIKE.test(value) && (scanned || !state.results.length)) {
      scanCard(value).catch(ignoreHandled);
    } else if (state.selected >= 0) {
      openCustomer(state.results[state.selected].customer_id);
    }
  } else if (event.key === "Escape") {
    $("q").value = "";
    state.keyTimes = [];
    runSearch();
  }
}

// --- customer page ---------------------------------------------------------------------------

function openCustomer(customerId) {
  location.hash = `#/client/${encodeURIComponent(customerId)}`;
}

function provenanceOf(customer, field) {
  const p = (customer.provenance || {})[field];
  if (!p || Array.isArray(p)) return null;
  return el("span", { class: "source", text: `${p.source}, ${RULES[p.rule] || p.rule}` });
}

function goldenRows(customer) {
  const rows = [];
  const add = (label, value, source) => rows.push(el("dt", { text: label }), el("dd", {}, el("span", { text: value }), source));
  for (const field of ["civility", "given_name", "family_name", "birth_name"]) {
    if (customer[field]) add(LABELS[field], customer[field], provenanceOf(customer, field));
  }
  if (customer.birth_date) add(customer.birth_date.length === 4 ? "Année de naissance" : LABELS.birth_date, formatDate(customer.birth_date), provenanceOf(customer, "birth_date"));
  for (const field of ["phones", "emails"]) {
    const values = (customer.provenance || {})[field] || (customer[field] || []).map((value) => ({ value }));
    if (values.length) add(LABELS[field], values.map((v) => v.value + (v.source ? ` (${v.source})` : "")).join(", "));
  }
  const seen = new Set();
  const addresses = (customer.addresses || []).filter((a) => {
    const text = [a.street, a.postcode, a.city].filter(Boolean).join(", ");
    if (!text || seen.has(text)) return false; // a role reading the city only sees one town once
    seen.add(text);
    return true;
  });
  addresses.forEach((a, index) => add(index === 0 ? "Adresse actuelle" : "Ancienne adresse", [a.street, a.postcode, a.city].filter(Boolean).join(", "), el("span", { class: "source", text: a.source || "" })));
  if ((customer.loyalty_cards || []).length) add(LABELS.loyalty_cards, customer.loyalty_cards.map((c) => `${c.card} (${c.source})`).join(", "));
  add("Sources", (customer.sources || []).join(", "));
  return rows;
}

function consentsBlock(customer) {
  const decided = customer.consents || {};
  const rows = Object.entries(decided).map(([purpose, s]) => [
    el("dt", { text: PURPOSES[purpose] || purpose }),
    el("dd", {}, el("span", { text: STATUSES[s.status] || s.status }), el("span", { class: "source", text: `${s.origin}, ${formatDate(s.at)}` })),
  ]).flat();
  $("consents").replaceChildren(...(rows.length ? rows : [el("dd", { text: "Aucun consentement recueilli." })]));
  $("restriction").hidden = !customer.restricted;
  $("consent-history").replaceChildren(...(customer.consent_history || []).map((s) =>
    el("li", { text: `${formatDate(s.at)} — ${PURPOSES[s.purpose] || s.purpose} : ${STATUSES[s.status] || s.status} (${s.origin}${s.by ? `, ${s.by}` : ""})` })));
}

function recordsTable(records) {
  const skip = new Set(["raw", "quality", "attributes", "deleted", "record_id", "full_name", "consents"]);
  const columns = [];
  for (const record of records) for (const key of Object.keys(record)) if (!skip.has(key) && !columns.includes(key)) columns.push(key);
  const head = el("tr", {}, ...columns.map((c) => el("th", { scope: "col", text: LABELS[c] || c })));
  const rows = records.map((r) => el("tr", {}, ...columns.map((c) => el("td", { text: c === "updated_at" ? formatDate(r[c]) : (r[c] ?? "") }))));
  $("records").tHead.replaceChildren(head);
  $("records").tBodies[0].replaceChildren(...rows);
}

function possiblySameItem(other) {
  const name = other.display_name || `Client ${other.customer_id}`;
  const link = el("a", { href: `#/client/${encodeURIComponent(other.customer_id)}`, text: name });
  const why = other.rule ? HELD_APART[other.rule] || other.reason : BELOW_THRESHOLD;
  const sources = other.sources.length ? ` (${other.sources.join(", ")})` : "";
  return el("li", {}, link, sources, el("span", { class: "source", text: `probabilité ${PERCENT.format(other.probability)} — ${why}` }));
}

const EVENT_TYPES = {
  purchase: "Achat",
  visit: "Visite",
  call: "Appel",
  web_order: "Commande en ligne",
  subscription: "Souscription",
  cancellation: "Résiliation",
  proposal: "Proposition",
};
const OUTCOMES = { proposed: "proposée", accepted: "acceptée", refused: "refusée" };
const CHANNELS = { shop: "magasin", web: "site web", phone: "téléphone" };
const EUROS = new Intl.NumberFormat("fr-FR", { style: "currency", currency: "EUR" });

function interactionText(e) {
  const parts = [`${formatDate(e.at)} — ${EVENT_TYPES[e.type] || e.type}`];
  if (e.amount !== undefined) parts.push(EUROS.format(e.amount));
  if (e.products) parts.push(e.products.join(", "));
  if (e.offer) parts.push(e.offer);
  if (e.action) parts.push(`${e.action}${e.outcome ? ` ${OUTCOMES[e.outcome] || e.outcome}` : ""}${e.reason ? ` (${e.reason})` : ""}`);
  if (e.shop) parts.push(`magasin ${e.shop}`);
  return `${parts.join(" · ")} — ${e.source}`;
}

function interactionItems(events) {
  return events.map((e) => el("li", { class: "interaction", "data-type": e.type, text: interactionText(e) }));
}

function figuresRows(figures) {
  const rows = [
    ["Dernier contact", figures.last_seen ? formatDate(figures.last_seen) : "jamais"],
    ["Visites sur 12 mois", String(figures.visits_12m)],
    ["Dépenses sur 12 mois", EUROS.format(figures.spend_12m)],
    ["Magasins fréquentés", figures.shops.join(", ") || "aucun"],
    ["Canaux utilisés", figures.channels.map((c) => CHANNELS[c] || c).sort((a, b) => a.localeCompare(b, "fr")).join(", ") || "aucun"],
  ];
  return rows.flatMap(([label, value]) => [el("dt", { text: label }), el("dd", { text: value })]);
}

function interactionsBlock(customerId, body) {
  $("interactions-section").hidden = !body.figures && !body.interactions;
  $("figures").replaceChildren(...(body.figures ? figuresRows(body.figures) : []));
  const held = (body.holdings || []).filter((h) => h.held);
  $("holdings").replaceChildren(...(held.length
    ? held.map((h) => el("li", { text: `${h.offer} — depuis le ${formatDate(h.since)} (${h.source})` }))
    : [el("li", { text: "Aucune offre détenue." })]));
  const page = body.interactions || { events: [], next: null };
  $("interactions").replaceChildren(...(page.events.length ? interactionItems(page.events) : [el("li", { text: "Aucune interaction." })]));
  const more = $("interactions-more");
  more.hidden = !page.next;
  more.onclick = () => olderInteractions(customerId, more).catch(ignoreHandled);
  more.dataset.next = page.next || "";
}

async function olderInteractions(customerId, more) {
  const response = await call(`/v1/customers/${encodeURIComponent(customerId)}/interactions?after=${encodeURIComponent(more.dataset.next)}`);
  if (!response.ok) return;
  const next = await response.json();
  $("interactions").append(...interactionItems(next.events));
  more.dataset.next = next.next || "";
  more.hidden = !next.next;
}

// --- next best actions -----------------------------------------------------------------------

const ACTION_CHANNELS = { counter: "au comptoir", email: "par e-mail", sms: "par SMS", phone: "par téléphone", post: "par courrier" };
const OUTCOME_SAID = { proposed: "Proposition enregistrée.", accepted: "Acceptation enregistrée.", refused: "Refus enregistré : l'action ne sera plus proposée pendant son délai." };

async function recordOutcome(customerId, action, outcome, reason) {
  const response = await send(`/v1/customers/${encodeURIComponent(customerId)}/actions`, { action, outcome, reason: reason || null });
  if (!response.ok) {
    $("actions-status").textContent = `Réponse non enregistrée : ${refusedText("action", response.status)}.`;
    return;
  }
  await showCustomer(customerId);
  $("actions-status").textContent = OUTCOME_SAID[outcome];
}

function actionItem(customerId, action) {
  const reason = el("input", { type: "text", maxlength: "300", placeholder: "Motif du refus (obligatoire)", "aria-label": `Motif du refus : ${action.label}` });
  reason.hidden = true;
  const refuse = el("button", { type: "button", class: "secondary", text: "Refusée" });
  refuse.addEventListener("click", () => {
    if (reason.hidden) { reason.hidden = false; reason.focus(); refuse.textContent = "Enregistrer le refus"; return; }
    if (!reason.value.trim()) { $("actions-status").textContent = "Indiquez le motif du refus."; reason.focus(); return; }
    recordOutcome(customerId, action.action, "refused", reason.value.trim()).catch(ignoreHandled);
  });
  const answer = (text, outcome) => {
    const button = el("button", { type: "button", class: "secondary", text });
    button.addEventListener("click", () => recordOutcome(customerId, action.action, outcome).catch(ignoreHandled));
    return button;
  };
  const channels = action.channels.map((c) => ACTION_CHANNELS[c] || c).join(", ");
  return el("li", { "data-action": action.action },
    el("div", { class: "label", text: action.label }),
    el("p", { class: "why", text: `Pourquoi : ${action.reason}` }),
    el("p", { class: "channels", text: `Canaux possibles : ${channels}` }),
    el("div", { class: "answers" }, answer("Proposée", "proposed"), answer("Acceptée", "accepted"), refuse, reason));
}

function actionsBlock(customerId, body) {
  const segments = body.segments || [];
  const actions = body.next_actions || [];
  const mayAct = Boolean(state.me && state.me.endpoints && state.me.endpoints.includes("actions"));
  $("actions-section").hidden = !segments.length && !mayAct;
  $("segments").replaceChildren(...segments.map((s) => el("li", { text: s.label })));
  $("next-actions").hidden = !mayAct;
  $("next-actions").replaceChildren(...(actions.length
    ? actions.map((a) => actionItem(customerId, a))
    : [el("li", { class: "empty", text: "Aucune action à proposer à ce client." })]));
  $("actions-status").textContent = "";
}

async function showCustomer(customerId) {
  $("search").hidden = true;
  $("customer").hidden = false;
  const response = await call(`/v1/customers/${encodeURIComponent(customerId)}`);
  const body = await response.json();
  if (!response.ok) {
    $("customer-title").textContent = response.status === 404 ? "Client introuvable" : "Fiche indisponible";
    $("golden").replaceChildren(el("dd", { text: refusedText("customer", response.status) }));
    return;
  }
  if (body.customer_id !== customerId) history.replaceState(null, "", `#/client/${body.customer_id}`);
  $("customer-title").textContent = body.display_name || `Client ${body.customer_id}`;
  $("golden").replaceChildren(...goldenRows(body.customer));
  actionsBlock(body.customer_id, body);
  consentsBlock(body.customer);
  interactionsBlock(body.customer_id, body);
  $("timeline").replaceChildren(...body.timeline.map((e) => el("li", { text: `${formatDate(e.at)} — ${e.source}${e.note ? ` : ${e.note}` : ""}` })));
  $("household").replaceChildren(...(body.household.length ? body.household.map((h) => {
    const link = el("a", { href: `#/client/${encodeURIComponent(h.customer_id)}`, text: [h.given_name, h.family_name].filter(Boolean).join(" ") || `Client ${h.customer_id}` });
    return el("li", {}, link);
  }) : [el("li", { text: "Personne d'autre à cette adresse." })]));
  $("possibly-same").replaceChildren(...(body.possibly_same || []).map(possiblySameItem));
  $("possibly-same-section").hidden = !(body.possibly_same || []).length;
  recordsTable(body.records);
  $("customer-title").setAttribute("tabindex", "-1");
  $("customer-title").focus();
}

function showSearch() {
  $("customer").hidden = true;
  $("search").hidden = false;
  $("q").focus();
}

function route() {
  if (!state.key) {
    signOut();
    return;
  }
  $("sign-in").hidden = true;
  const match = location.hash.match(/^#\/client\/(.+)$/);
  if (match) showCustomer(decodeURIComponent(match[1])).catch(ignoreHandled);
  else showSearch();
}

function ignoreHandled(error) {
  if (!(error instanceof Handled)) throw error;
}

document.addEventListener("DOMContentLoaded", () => {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn($("api-key").value.trim()).catch(ignoreHandled);
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("q").addEventListener("input", scheduleSearch);
  $("q").addEventListener("keydown", onSearchKey);
  $("back").addEventListener("click", () => { location.hash = ""; });
  window.addEventListener("hashchange", route);
  if (state.key) signIn(state.key).catch(ignoreHandled); else signOut();
});
