"""The subject export as a document a person can read (French): what rcu holds about them, where
each value came from, their consents, and who looked at their file."""

from __future__ import annotations

from html import escape
from typing import Any

from search.rights.consents import PURPOSES

PURPOSE_LABELS = dict(
    zip(
        PURPOSES,
        (
            "Prospection par e-mail",
            "Prospection par SMS",
            "Prospection par téléphone",
            "Prospection par courrier",
            "Profilage",
            "Partage avec des partenaires",
            "Limitation du traitement",
        ),
        strict=True,
    )
)
STATUS_LABELS = {"granted": "accepté", "refused": "refusé", "requested": "demandée", "lifted": "levée"}
FIELD_LABELS = {
    "civility": "Civilité",
    "given_name": "Prénom",
    "family_name": "Nom",
    "birth_name": "Nom de naissance",
    "birth_date": "Date de naissance",
    "emails": "E-mails",
    "phones": "Téléphones",
    "street": "Rue",
    "postcode": "Code postal",
    "city": "Ville",
    "email": "E-mail",
    "phone": "Téléphone",
    "loyalty_card": "Carte de fidélité",
    "country": "Pays",
}
ACTION_LABELS = {
    "search": "recherche",
    "card": "lecture de carte",
    "customer": "consultation de la fiche",
    "consents": "consentement enregistré",
    "export": "export de vos données",
    "rectification": "rectification",
}
CHANGE_LABELS = {
    "created": "fiche créée",
    "updated": "fiche mise à jour",
    "merged": "fusion de fiches",
    "split": "séparation de fiches",
    "consent_changed": "consentement modifié",
    "removed": "fiche retirée",
}
MATCH_LABELS = {
    "below-threshold": "ressemblance trop faible pour réunir les fiches",
    "refused-by-rule": "réunion écartée par une règle (autre date de naissance, autre personne du foyer…)",
    "ambiguous-weak-record": "fiche trop peu renseignée pour savoir à qui elle appartient",
}
STYLE = "body{font:16px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}"
STYLE += "table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}td,th{border:1px solid #c9d1db;padding:.3rem .5rem;text-align:left;vertical-align:top}"
STYLE += "th{background:#f0f3f6}.muted{color:#4a5360;font-size:.9rem}"


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} : {_text(v)}" for k, v in value.items())
    return escape("" if value is None else str(value))


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    if not rows:
        return "<p class='muted'>Aucune donnée.</p>"
    head = "".join(f"<th scope='col'>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_text(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _golden(customer: dict[str, Any]) -> str:
    provenance = customer.get("provenance", {})
    rows = []
    for field, label in FIELD_LABELS.items():
        if customer.get(field):
            origin = provenance.get(field)
            source = origin.get("source") if isinstance(origin, dict) else ", ".join(sorted({o.get("source", "") for o in origin or []}))
            rows.append([label, customer[field], source or ""])
    for card in customer.get("loyalty_cards", []):
        rows.append(["Carte de fidélité", card.get("card"), card.get("source")])
    return _table(["Donnée", "Valeur", "Provenance"], rows)


def _records(records: list[dict[str, Any]]) -> str:
    parts = []
    for record in records:
        rows = [[FIELD_LABELS.get(k, k), v, (record.get("raw") or {}).get(k, "")] for k, v in record.items() if k in FIELD_LABELS]
        rows += [[f"autre : {k}", v, ""] for k, v in (record.get("attributes") or {}).items()]
        parts.append(f"<h3>{escape(record['source'])} — {escape(record['source_id'])}</h3>")
        parts.append(f"<p class='muted'>Mise à jour : {_text(record.get('updated_at'))} · reçue le {_text(record.get('ingested_at'))}</p>")
        parts.append(_table(["Donnée", "Valeur retenue", "Valeur telle que reçue"], rows))
    return "".join(parts) or "<p class='muted'>Aucune fiche.</p>"


def export_html(export: dict[str, Any]) -> str:
    """The French, printable version of a subject export."""
    consents = export["consents"]
    decided = [
        [PURPOSE_LABELS.get(p, p), STATUS_LABELS.get(s["status"], s["status"]), s.get("origin"), s.get("at")]
        for p, s in consents["decided"].items()
    ]
    history = [
        [s.get("at"), PURPOSE_LABELS.get(s["purpose"], s["purpose"]), STATUS_LABELS.get(s["status"], s["status"]), s.get("origin")]
        for s in consents["history"]
    ]
    changes = [[c.get("at"), CHANGE_LABELS.get(c["kind"], c["kind"]), ", ".join(c.get("fields") or [])] for c in export["changes"]]
    matches = [
        [m.get("created_at"), MATCH_LABELS.get(m["kind"], m["kind"]), f"{m['probability']:.0%}", ", ".join(m["your_records"])]
        for m in export.get("possible_matches", [])
    ]
    audit = [[e.get("at"), e.get("caller"), e.get("role"), ACTION_LABELS.get(e.get("action"), e.get("action"))] for e in export["audit"]]
    restricted = (
        "<p><strong>Vous avez demandé la limitation du traitement : aucune utilisation marketing.</strong></p>"
        if consents["restricted"]
        else ""
    )
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Vos données personnelles — {escape(export["customer_id"])}</title><style>{STYLE}</style></head>
<body>
<h1>Vos données personnelles</h1>
<p>Ce document rassemble tout ce que notre référentiel client conserve à votre sujet (droit d'accès, article 15 du RGPD),
établi le {escape(export["generated_at"])}. Identifiant client : <strong>{escape(export["customer_id"])}</strong>.
La version JSON du même export peut être transmise à un autre organisme (droit à la portabilité, article 20).</p>
<h2>Votre fiche consolidée</h2>
<p class="muted">Pour chaque donnée, le système d'où elle provient.</p>
{_golden(export["customer"])}
<h2>Vos consentements</h2>
{restricted}
{_table(["Finalité", "Choix", "Exprimé via", "Le"], decided)}
<h3>Historique de vos choix</h3>
{_table(["Le", "Finalité", "Choix", "Exprimé via"], history)}
<h2>Vos fiches dans nos systèmes</h2>
{_records(export["records"])}
<h2>Historique de votre fiche</h2>
{_table(["Le", "Événement", "Données concernées"], changes)}
<h2>Fiches qui pourraient aussi être les vôtres</h2>
<p class="muted">Des fiches d'une autre personne ressemblent aux vôtres sans que nous les ayons réunies ; un gestionnaire
peut vérifier. Les données de l'autre fiche ne figurent pas ici : elles peuvent appartenir à quelqu'un d'autre.</p>
{_table(["Depuis le", "Pourquoi elles restent séparées", "Probabilité d'être vous", "Vos fiches comparées"], matches)}
<h2>Qui a consulté votre fiche</h2>
{_table(["Le", "Par", "Rôle", "Action"], audit)}
</body></html>
"""
