// The steward's workbench: the review queue, two customers side by side with their differences
// highlighted, the explanation in plain French, and the decisions. Plain JavaScript, no build
// step; every value from the server is inserted as text.
"use strict";

const KEY_STORAGE = "rcu.apiKey";
const LABELS = {
  civility: "Civilité", given_name: "Prénom", family_name: "Nom", birth_name: "Nom de naissance",
  birth_date: "Date de naissance", phones: "Téléphones", emails: "E-mails", street: "Rue", postcode: "Code postal",
  city: "Ville", loyalty_cards: "Cartes de fidélité", phone: "Téléphone", email: "E-mail", loyalty_card: "Carte",
  address: "Adresse", source: "Source", record_id: "Fiche", name_alone: "fiche rattachée sur le seul nom",
};
const LEVELS = {
  "exact": "identique", "exact unverified": "identique (non vérifié)", "one typo": "une faute de frappe",
  "different": "différent", "missing on one side": "absent d'un côté", "same year": "même année",
  "swapped, one digit or one day": "chiffres inversés ou un jour d'écart", "one digit": "un chiffre d'écart",
  "same street": "même rue", "close street": "rue proche", "same postcode": "même code postal",
  "same postcode, another street": "même code postal, autre rue",
  "same town or département": "même ville ou département", "elsewhere": "ailleurs",
  "same sound": "même prononciation", "very close": "très proche", "close": "proche",
  "initial or short form": "initiale ou forme courte",
  "same mailbox, another provider": "même identifiant, autre fournisseur",
};
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
const DECIDED = { same_person: "même personne", different_people: "personnes différentes", split: "séparation", detach: "fiche détachée" };
const PERCENT = new Intl.NumberFormat("fr-FR", { style: "percent", maximumFractionDigits: 0 });
const $ = (id) => document.getElementById(id);
const state = { key: sessionStorage.getItem(KEY_STORAGE), items: [], index: -1, file: null };

class Refused extends Error {}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "text") node.textContent = value; else node.setAttribute(name, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function say(id, message) {
  $(id).textContent = message || "";
  $(id).hidden = !message;
  if (message) $(id).scrollIntoView({ block: "nearest" }); // the buttons are at the bottom, messages at the top
}
function text(value) {
  if (value === null || value === undefined) return "—";
  if (Array.isArray(value)) return value.map((v) => (typeof v === "object" ? v.card || JSON.stringify(v) : v)).join(", ");
  return String(value);
}

const REFUSED = {
  404: "ce client ou cette décision n'existe plus.",
  410: "ce client a été effacé à sa demande.",
  413: "la demande est trop volumineuse.",
  422: "la demande est incomplète ou invalide (motif, fiches cochées, client) : vérifiez-la.",
};

async function call(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { "X-API-Key": state.key, "Content-Type": "application/json", Accept: "application/json" },
  });
  if (response.status === 401) { signOut(); say("alert", "Clé d'accès refusée : vérifiez-la ou demandez-en une à l'administrateur."); throw new Refused(); }
  if (response.status === 403) { say("alert", "Votre rôle ne permet pas la revue des doublons : elle est réservée aux gestionnaires de données."); throw new Refused(); }
  const body = await response.json().catch(() => ({}));
  if (response.status === 409) { say("alert", body.message || "Ce dossier a changé depuis son affichage : rechargez-le."); throw new Refused(); }
  // Never the API's `detail` (English, for integrators): the steward reads French.
  if (!response.ok) { say("alert", `La demande n'a pas abouti (${response.status}) : ${REFUSED[response.status] || "réessayez dans un instant."}`); throw new Refused(); }
  return body;
}

function signOut() {
  sessionStorage.removeItem(KEY_STORAGE);
  state.key = null;
  $("workbench").hidden = true; $("session").hidden = true; $("sign-in").hidden = false;
}

async function loadQueue(keepIndex = false) {
  const page = await call("/v1/review?limit=30");
  state.items = page.items;
  const list = $("queue");
  list.replaceChildren();
  page.items.forEach((item, i) => {
    const names = item.customers.map((c) => `${c.customer.given_name || ""} ${c.customer.family_name || ""}`.trim()).join(" / ");
    const what = item.kind === "possible-match" ? `${PERCENT.format(item.probability)} · ${item.contested ? "décision contredite" : "doublon possible"}` : "fiches en désaccord";
    const li = el("li", { tabindex: "0", "data-index": String(i) }, el("span", { text: names }), el("span", { class: "value", text: what }));
    li.addEventListener("click", () => show(i));
    list.append(li);
  });
  if (state.file) return; // a customer opened from the search box stays on screen
  if (!page.items.length) { $("item-title").textContent = "Aucun dossier à revoir"; state.index = -1; return; }
  show(keepIndex ? Math.min(state.index, page.items.length - 1) : 0);
}

function show(index) {
  state.index = index; state.file = null;
  const item = state.items[index];
  for (const li of $("queue").children) li.setAttribute("aria-current", String(li.dataset.index === String(index)));
  const names = item.customers.map((c) => `${c.customer.given_name || ""} ${c.customer.family_name || ""}`.trim());
  $("item-title").textContent = names.join(" ↔ ");
  const why = $("item-why");
  why.className = item.contested ? "why contested" : "why";
  if (item.kind === "possible-match") {
    const rule = item.rule ? HELD_APART[item.rule] || item.rule : "ressemblance insuffisante pour fusionner";
    why.textContent = `Probabilité d'être la même personne : ${PERCENT.format(item.probability)}. Tenus séparés : ${rule}.`;
  } else {
    why.textContent = `Les fiches de ce client ne s'accordent pas sur : ${item.fields.map((f) => LABELS[f] || f).join(", ")}.`;
  }
  renderCompare(item);
  renderExplanation(item);
  renderRecords(item.customers);
  $("same").disabled = false; $("different").disabled = item.kind !== "possible-match";
}

function renderCompare(item) {
  const table = $("compare");
  table.replaceChildren();
  const head = el("tr", {}, el("th", { text: "Champ" }), ...item.customers.map((c) => el("th", { text: c.customer_id })));
  table.append(head);
  if (item.kind === "possible-match") {
    for (const row of item.comparison) {
      table.append(el("tr", { class: row.same ? "" : "differs" }, el("td", { text: LABELS[row.field] || row.field }), ...row.values.map((v) => el("td", { text: text(v) }))));
    }
  } else {
    for (const row of item.disagreements) {
      for (const [record, value] of Object.entries(row.values)) {
        table.append(el("tr", { class: "differs" }, el("td", { text: `${LABELS[row.field] || row.field} (${record})` }), el("td", { text: text(value) })));
      }
    }
  }
}

function renderExplanation(item) {
  const list = $("explanation");
  list.replaceChildren();
  const fields = (item.explanation && item.explanation.fields) || [];
  for (const f of fields) {
    const weight = f.weight_bits || 0;
    const side = weight > 0 ? "en faveur" : weight < 0 ? "contre" : "neutre";
    list.append(el("li", { class: weight > 0 ? "for" : weight < 0 ? "against" : "" , text: `${LABELS[f.field] || f.field} : ${LEVELS[f.level] || f.level} — ${side}` }));
  }
  for (const d of item.decisions || []) {
    list.append(el("li", { class: "against", text: `Décision du ${new Date(d.at).toLocaleString("fr-FR")} par ${d.by} : ${DECIDED[d.kind] || d.kind}${d.reason ? ` (« ${d.reason} »)` : ""}` }));
  }
}

function renderRecords(files) {
  const table = $("records");
  table.replaceChildren(el("tr", {}, ...["", "Client", "Fiche", "Nom", "Date de naissance", "Téléphone", "E-mail", "Ville"].map((h) => el("th", { text: h }))));
  for (const file of files) {
    for (const r of file.records) {
      const box = el("input", { type: "checkbox", "aria-label": `Séparer la fiche ${r.record_id}`, "data-record": r.record_id, "data-customer": file.customer_id });
      table.append(el("tr", {}, el("td", {}, box), el("td", { text: file.customer_id }), el("td", { text: r.record_id }),
        el("td", { text: `${r.given_name || ""} ${r.family_name || ""}`.trim() }), el("td", { text: text(r.birth_date) }),
        el("td", { text: text(r.phone) }), el("td", { text: text(r.email) }), el("td", { text: text(r.city) })));
    }
  }
}

function current() {
  if (state.file) return { customers: [state.file], version: state.fileVersion, kind: "customer" };
  return state.items[state.index];
}

async function decide(kind) {
  const item = current();
  if (!item) return;
  let customerIds = item.customers.map((c) => c.customer_id);
  let records = [];
  if (kind === "split") {
    const checked = [...document.querySelectorAll("#records input:checked")];
    if (!checked.length) { say("alert", "Cochez d'abord les fiches à séparer."); return; }
    const owners = new Set(checked.map((b) => b.dataset.customer));
    if (owners.size > 1) { say("alert", "Cochez des fiches d'un seul client à la fois."); return; }
    customerIds = [...owners];
    records = checked.map((b) => b.dataset.record);
    kind = records.length === 1 ? "detach" : "split";
  }
  if (kind === "same_person" && item.kind === "identity-conflict") customerIds = customerIds.slice(0, 1);
  const version = item.kind === "possible-match" || item.kind === "identity-conflict" ? item.version : state.fileVersion;
  const body = { kind, customer_ids: customerIds, version: customerIds.length === item.customers.length ? version : await versionOf(customerIds), records, reason: $("reason").value };
  try {
    const answer = await call("/v1/review/decisions", { method: "POST", body: JSON.stringify(body) });
    say("alert", "");
    say("notice", `Décision enregistrée (${DECIDED[answer.decision.kind]}) : ${answer.customers.join(", ")}.`);
    offerUndo(answer.decision);
    $("reason").value = "";
    await loadQueue(true);
  } catch (error) { if (!(error instanceof Refused)) throw error; }
}

function offerUndo(decision) {
  const button = el("button", { type: "button", class: "secondary", text: "Annuler cette décision" });
  button.addEventListener("click", async () => {
    try {
      await call(`/v1/review/decisions/${decision.decision_id}/undo`, { method: "POST", body: JSON.stringify({ reason: $("reason").value }) });
      say("alert", "");
      say("notice", `Décision annulée : les fiches ont retrouvé leurs clients (${DECIDED[decision.kind]} défaite).`);
      await loadQueue(true);
    } catch (error) { if (!(error instanceof Refused)) throw error; }
  });
  $("notice").append(" ", button);
}

async function versionOf(customerIds) {
  // A split from a pair: the file of the one customer gives its version.
  const file = await call(`/v1/review/customers/${encodeURIComponent(customerIds[0])}`);
  return file.item_version;
}

async function find(query) {
  const list = $("found");
  list.replaceChildren();
  if (query.trim().length < 2) return;
  const answer = await call(`/v1/search?q=${encodeURIComponent(query)}&limit=8`);
  for (const hit of answer.results) {
    const li = el("li", { class: "result", tabindex: "0" }, el("span", { class: "name", text: hit.display_name || hit.customer_id }), el("span", { class: "meta", text: `${hit.records.length} fiche(s)` }));
    li.addEventListener("click", () => openFile(hit.customer_id));
    list.append(li);
  }
}

async function openFile(customerId) {
  const file = await call(`/v1/review/customers/${encodeURIComponent(customerId)}`);
  state.file = file; state.fileVersion = file.item_version;
  $("found").replaceChildren();
  $("item-title").textContent = `${file.customer.given_name || ""} ${file.customer.family_name || ""} — ${file.customer_id}`;
  $("item-why").className = "why";
  $("item-why").textContent = "Cochez les fiches qui ne sont pas ce client, puis « Séparer ».";
  $("compare").replaceChildren();
  $("explanation").replaceChildren(...file.decisions.map((d) => el("li", { text: `Décision du ${new Date(d.at).toLocaleString("fr-FR")} par ${d.by} : ${DECIDED[d.kind] || d.kind}` })));
  renderRecords([file]);
  $("same").disabled = true; $("different").disabled = true;
}

function next() {
  if (!state.items.length) return;
  show((state.index + 1) % state.items.length);
}

document.addEventListener("keydown", (event) => {
  if ($("workbench").hidden || event.ctrlKey || event.metaKey || event.altKey) return;
  if (["INPUT", "TEXTAREA"].includes(document.activeElement.tagName) && document.activeElement.type !== "checkbox") return;
  const action = { m: () => decide("same_person"), d: () => decide("different_people"), s: () => decide("split"), n: next }[event.key.toLowerCase()];
  if (action) { event.preventDefault(); action(); }
});

async function start() {
  $("sign-in").hidden = true; $("workbench").hidden = false; $("session").hidden = false;
  try { await loadQueue(); } catch (error) { if (!(error instanceof Refused)) throw error; }
}

$("sign-in-form").addEventListener("submit", (event) => {
  event.preventDefault();
  state.key = $("api-key").value.trim();
  sessionStorage.setItem(KEY_STORAGE, state.key);
  say("alert", "");
  start();
});
$("sign-out").addEventListener("click", signOut);
$("same").addEventListener("click", () => decide("same_person"));
$("different").addEventListener("click", () => decide("different_people"));
$("split").addEventListener("click", () => decide("split"));
$("next").addEventListener("click", next);
let findTimer = null;
$("find").addEventListener("input", (event) => { clearTimeout(findTimer); findTimer = setTimeout(() => find(event.target.value).catch(() => {}), 150); });
$("find-form").addEventListener("submit", (event) => event.preventDefault());
if (state.key) start(); else $("sign-in").hidden = false;
