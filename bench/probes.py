"""`python -m bench.probes`: issue 15's probes, re-run against a real node, printed as the table in
bench/RESULTS.md (probe, expected, observed). Everything is written under an index prefix of its
own (deleted at the end) and a temporary folder; the hung-node probe freezes the node rcu manages
(SIGSTOP, then SIGCONT) for a few seconds, so run it against your own node."""

from __future__ import annotations

import logging
import os
import signal
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import jwt
import orjson
import uvicorn
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from api.policy import DEMO_KEYS, DEMO_POLICY, Policy, PolicyRefused, serving_policy
from bench.harness import ensure_node
from indexers.demo.sources import write_demo_data
from indexers.ingest import Ingestion
from indexers.readers import SourceFiles
from indexers.report import IngestSummary, RejectsReport
from provisioning.process import node_status
from search.client import bulk_client, sync_client
from search.indices import IndexNames
from search.resolve.config import ResolutionConfig
from search.resolve.pipeline import resolve_all
from settings import Settings
from tests.relay import Relay

Probe = tuple[str, str, Callable[[], str]]
JWT_SECRET = "probe-secret-of-at-least-32-bytes!"


class Probes:
    def __init__(self, settings: Settings, folder: Path) -> None:
        self.settings = settings.model_copy(
            update={"index_prefix": f"rcu-probes-{uuid.uuid4().hex[:6]}", "jwt_secret": SecretStr(JWT_SECRET)}
        )
        self.folder = folder
        self.client = sync_client(self.settings)
        self.names = IndexNames(self.settings.index_prefix)
        self.runs = 0

    # -- helpers ----------------------------------------------------------------------------

    def ingest(self, lines: list[bytes], names: IndexNames | None = None, client: Any = None) -> tuple[IngestSummary, list[dict[str, Any]]]:
        self.runs += 1
        source = self.folder / f"probe-{self.runs}.jsonl"
        source.write_bytes(b"".join(line + b"\n" for line in lines))
        report_path = self.folder / f"report-{self.runs}.jsonl"
        with RejectsReport(report_path) as report:
            summary = Ingestion(client or self.client, names or self.names, report).run(SourceFiles.discover([source]))
        return summary, [orjson.loads(line) for line in report_path.read_bytes().splitlines()]

    @staticmethod
    def record(source_id: str, **fields: Any) -> bytes:
        return orjson.dumps({"source": "crm", "source_id": source_id, "family_name": "Dupont", **fields})

    def outcome(self, summary: IngestSummary, report: list[dict[str, Any]]) -> str:
        reasons = "; ".join(entry["reason"][:70] for entry in report if entry["kind"] == "rejected")
        counts = ", ".join(f"{name} {count}" for name, count in summary.outcomes.items() if count)
        return f"{counts}" + (f" — {reasons}" if reasons else "")

    def city(self, record_id: str) -> str:
        document = self.client.get(index=self.names.records, id=record_id)["_source"]
        return "deleted" if document["deleted"] else document.get("city", "?")

    # -- probes -------------------------------------------------------------------------------

    def pre_1970_and_long_id(self) -> str:
        summary, report = self.ingest(
            [self.record("a"), self.record("b", updated_at="1969-07-21T02:56:00Z"), self.record("€" * 200), self.record("c")]
        )
        return self.outcome(summary, report)

    def deep_and_year_one(self) -> str:
        deep = b'{"source": "crm", "source_id": "deep", "note": ' + b'{"n": ' * 300 + b"1" + b"}" * 300 + b"}"
        summary, report = self.ingest([self.record("d"), deep, self.record("y1", updated_at="0001-01-01T00:00:00+01:00"), self.record("e")])
        return self.outcome(summary, report)

    def own_rejects_file(self) -> str:
        exports = self.folder / "exports"
        exports.mkdir()
        (exports / "crm.jsonl").write_bytes(self.record("f") + b"\n")
        (exports / "rejects.jsonl").write_bytes(b'{"kind": "rejected"}\n')
        mine = exports / "bilan.jsonl"
        mine.write_bytes(b"")
        files = SourceFiles.discover([exports], written=(mine,))
        return f"read {[p.name for p in files.jsonl]}, skipped as rcu's {[p.name for p in files.own]}"

    def same_time_deletion(self) -> str:
        at = "2024-03-01T10:00:00Z"
        self.ingest([self.record("g", city="Lyon", updated_at=at)])
        summary, _ = self.ingest([orjson.dumps({"source": "crm", "source_id": "g", "deleted": True, "updated_at": at})])
        return f"{self.outcome(summary, [])}; stored copy: {self.city('crm:g')}"

    def same_time_change(self) -> str:
        at = "2024-03-01"  # day precision: two changes in one day share it
        lyon, paris = self.record("h", city="Lyon", updated_at=at), self.record("h", city="Paris", updated_at=at)
        kept, ties = [], 0
        for n, (first, second) in enumerate(((lyon, paris), (paris, lyon))):
            names = IndexNames(f"{self.names.prefix}-tie-{n}")
            self.ingest([first], names)
            _, report = self.ingest([second], names)
            ties += sum(1 for entry in report if entry["kind"] == "tie")
            kept.append(self.client.get(index=names.records, id="crm:h")["_source"]["city"])
        return f"Lyon then Paris kept {kept[0]}, Paris then Lyon kept {kept[1]}; {ties} tie reported"

    def undated_change(self) -> str:
        self.ingest([self.record("u", city="Lyon")])
        changed, _ = self.ingest([self.record("u", city="Paris")])
        deleted, _ = self.ingest([orjson.dumps({"source": "crm", "source_id": "u", "deleted": True})])
        return f"change: {self.outcome(changed, [])}; deletion: {self.outcome(deleted, [])}; stored: {self.city('crm:u')}"

    def future_in_file(self) -> str:
        summary, report = self.ingest([orjson.dumps({"source": "crm", "source_id": "f2", "deleted": True, "updated_at": "2999-01-01"})])
        return self.outcome(summary, report)

    def boms(self) -> str:
        export = self.folder / "bom.csv"
        export.write_bytes("\ufeffNUM;NOM\nB1;Lefèvre\n".encode())
        (self.folder / "bom.mapping.toml").write_text(
            'source = "legacy"\ndelimiter = ";"\n[columns]\nNUM = "source_id"\nNOM = "family_name"\n'
        )
        with RejectsReport(self.folder / "bom-report.jsonl") as report:
            csv_summary = Ingestion(self.client, self.names, report).run(SourceFiles.discover([export]))
        jsonl, _ = self.ingest([b"\xef\xbb\xbf" + self.record("bom-1"), self.record("bom-2")])
        return f"CSV: {self.outcome(csv_summary, [])}; JSONL: {self.outcome(jsonl, [])}"

    def racing_first_ingests(self) -> str:
        names = IndexNames(f"{self.names.prefix}-race")
        errors: list[str] = []
        barrier = threading.Barrier(3)

        def run(n: int) -> None:
            barrier.wait()
            try:
                self.ingest([self.record(f"race-{n}")], names)
            except Exception as error:  # noqa: BLE001 - reported in the table
                errors.append(type(error).__name__)

        threads = [threading.Thread(target=run, args=(n,)) for n in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return f"{3 - len(errors)} of 3 succeeded" + (f" ({', '.join(errors)})" if errors else "")

    def outage(self) -> str:
        node = httpx.URL(self.settings.opensearch_url)
        relay = Relay((node.host, node.port or 9200))
        waits: list[float] = []
        client = bulk_client(
            self.settings.model_copy(update={"opensearch_url": f"http://127.0.0.1:{relay.port}"}),
            on_wait=lambda waited, _: waits.append(waited),
        )
        threading.Timer(45, relay.start).start()  # about a node restart (bench/RESULTS: ~40 s)
        started = time.monotonic()
        try:
            summary, _ = self.ingest([self.record(f"o-{n}") for n in range(20)], IndexNames(f"{self.names.prefix}-outage"), client)
        finally:
            client.close()
            relay.stop()
        return f"{self.outcome(summary, [])} after {time.monotonic() - started:.0f} s; {len(waits)} waits reported"

    # -- API probes ---------------------------------------------------------------------------

    def with_api(self, probe: Callable[[TestClient], str], settings: Settings | None = None) -> Callable[[], str]:
        def run() -> str:
            with TestClient(create_app(settings or self.settings, Policy.load(DEMO_POLICY))) as api:
                return probe(api)

        return run

    @staticmethod
    def key(role: str) -> dict[str, str]:
        return {"X-API-Key": DEMO_KEYS[role]}

    def integrator_deletes_crm(self, api: TestClient) -> str:
        body = {"source": "crm", "source_id": "CRM00000001", "deleted": True, "updated_at": "2026-01-01T00:00:00Z"}
        response = api.post("/v1/records", json=body, headers=self.key("integrator"))
        future = api.post("/v1/records", json={**body, "source": "ecommerce", "updated_at": "2999-01-01"}, headers=self.key("integrator"))
        return f"crm: {response.status_code} {response.json()['detail']}; ecommerce in 2999: {future.status_code}"

    def bad_bodies(self, api: TestClient) -> str:
        bodies = {
            "depth 300": b'{"source": "ecommerce", "source_id": "x", "n": ' + b"[" * 300 + b"]" * 300 + b"}",
            "1969": b'{"source": "ecommerce", "source_id": "x", "updated_at": "1969-12-31"}',
            "year 1": b'{"source": "ecommerce", "source_id": "x", "updated_at": "0001-01-01T00:00:00+01:00"}',
            "600-byte id": b'{"source": "ecommerce", "source_id": "' + "€".encode() * 200 + b'"}',
            "100 KB": b'{"source": "ecommerce", "source_id": "x", "n": "' + b"x" * 100_000 + b'"}',
            "2 MB": b'{"source": "ecommerce", "source_id": "x", "n": "' + b"x" * 2_000_000 + b'"}',
        }
        answers = []
        for name, body in bodies.items():
            response = api.post("/v1/records", content=body, headers={**self.key("steward"), "Content-Type": "application/json"})
            answers.append(f"{name} {response.status_code}")
        return ", ".join(answers)

    def household_audit(self, api: TestClient) -> str:
        households = self.client.search(
            index=self.names.customers,
            body={"size": 0, "aggs": {"households": {"terms": {"field": "household_key", "min_doc_count": 2, "size": 1}}}},
        )["aggregations"]["households"]["buckets"]
        if not households:
            return "no household in the data set"
        member = self.client.search(
            index=self.names.customers, body={"query": {"term": {"household_key": households[0]["key"]}}, "size": 1}
        )
        customer_id = member["hits"]["hits"][0]["_source"]["customer_id"]
        view = api.get(f"/v1/customers/{customer_id}", headers=self.key("callcenter")).json()
        entry = api.get("/v1/audit", params={"customer_id": customer_id}, headers=self.key("admin")).json()["entries"][0]
        return f"{1 + len(view['household'])} customers shown, {len(entry['customer_ids'])} in the audit entry"

    def audit_misses(self, api: TestClient) -> str:
        api.get("/v1/search", params={"q": "zzqx wvyk"}, headers=self.key("counter"))
        api.get("/v1/search", params={"q": "06 11 22 33 44"}, headers=self.key("marketing"))
        api.get("/v1/search", params={"q": "dupont"}, headers=self.key("integrator"))
        api.post(
            "/v1/records", json={"source": "ecommerce", "source_id": "probe-1", "family_name": "Probe"}, headers=self.key("integrator")
        )
        entries = api.get("/v1/audit", params={"limit": 20}, headers=self.key("admin")).json()["entries"]
        return ", ".join(f"{e['action']} {e['outcome']}" for e in reversed(entries[:4]))

    def jwt_list_role(self, api: TestClient) -> str:
        token = jwt.encode({"sub": "x", "exp": int(time.time()) + 60, "rcu_role": ["admin"]}, JWT_SECRET)
        return str(api.get("/v1/search", params={"q": "dupont"}, headers={"Authorization": f"Bearer {token}"}).status_code)

    def fresh_install(self, api: TestClient) -> str:
        response = api.get("/v1/search", params={"q": "dupont"}, headers=self.key("counter"))
        return f"{response.status_code} {response.json()['detail']}"

    def headers(self, api: TestClient) -> str:
        response = api.get("/v1/search", params={"q": "dupont"}, headers=self.key("counter"))
        return f"Cache-Control: {response.headers.get('cache-control')}, X-Content-Type-Options: {response.headers.get('x-content-type-options')}"

    def hung_node(self, api: TestClient) -> str:
        pid = node_status(self.settings).managed_pid
        if not pid:
            return "not run: the node is not one rcu manages"
        os.kill(pid, signal.SIGSTOP)
        try:
            started = time.monotonic()
            response = api.get("/v1/search", params={"q": "dupont"}, headers=self.key("counter"))
            elapsed = time.monotonic() - started
        finally:
            os.kill(pid, signal.SIGCONT)
        return f"{response.status_code} after {elapsed:.1f} s"

    def access_log(self, path: str = "/v1/search", params: dict[str, str] | None = None) -> str:
        lines: list[str] = []

        class Lines(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                lines.append(record.getMessage())

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(create_app(self.settings, Policy.load(DEMO_POLICY)), port=port, log_level="info"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        access = logging.getLogger("uvicorn.access")
        handler = Lines()
        access.addHandler(handler)
        try:
            typed = {"q": "06 11 22 33 44"} if params is None else params
            httpx.get(f"http://127.0.0.1:{port}{path}", params=typed, headers=self.key("counter"))
        finally:
            access.removeHandler(handler)
            server.should_exit = True
            thread.join(timeout=10)
        route = path.rsplit("/", 1)[0] if params is not None else path
        return next((line.split(" - ", 1)[-1] for line in lines if route in line), "no line")

    def serve_defaults(self) -> str:
        answers = []
        for demo, host in ((False, "127.0.0.1"), (True, "0.0.0.0")):
            try:
                serving_policy(self.settings.model_copy(update={"policy": None}), demo, host)
                answers.append("served")
            except PolicyRefused as error:
                answers.append(f"refused ({str(error)[:60]}…)")
        return f"no policy: {answers[0]}; demo policy on 0.0.0.0: {answers[1]}"

    # -- session 9: a new user and an attacker ---------------------------------------------------

    def future_consents(self, api: TestClient) -> str:
        customer_id = self.client.search(index=self.names.customers, body={"size": 1})["hits"]["hits"][0]["_source"]["customer_id"]
        answers = []
        for at in ("2999-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00"):
            body = {"statements": [{"purpose": "marketing_email", "status": "granted", "at": at}]}
            answers.append(str(api.put(f"/v1/customers/{customer_id}/consents", json=body, headers=self.key("counter")).status_code))
        summary, report = self.ingest(
            [self.record("c2999", consents=[{"purpose": "profiling", "status": "granted", "at": "2999-01-01"}]), self.record("c-ok")]
        )
        return f"API {', '.join(answers)}; file: {self.outcome(summary, report)}"

    def invisible_characters(self) -> str:
        summary, report = self.ingest(
            [
                self.record("n\x00ul"),
                self.record("A1\u200b"),
                self.record("bidi", given_name="\u202eJean", family_name="Du\u0301\u0301\u0301pont"),
            ]
        )
        stored = self.client.get(index=self.names.records, id="crm:bidi")["_source"]
        return f"{self.outcome(summary, report)}; stored name {stored['given_name']!r} {stored['family_name']!r}"

    def readers(self) -> str:
        mac = self.folder / "mac.jsonl"
        mac.write_bytes(b"\r".join(self.record(f"mac-{n}") for n in range(3)))
        export = self.folder / "latin.csv"
        export.write_bytes("NUM;NOM\nL1;Lefèvre\n".encode("latin-1"))
        (self.folder / "latin.mapping.toml").write_text(
            'source = "legacy"\ndelimiter = ";"\n[columns]\nNUM = "source_id"\nNOM = "family_name"\n'
        )
        with RejectsReport(self.folder / "readers-report.jsonl") as report:
            summary = Ingestion(self.client, self.names, report).run(SourceFiles.discover([mac, export]))
        reasons = [orjson.loads(line)["reason"] for line in (self.folder / "readers-report.jsonl").read_bytes().splitlines()]
        return f"{self.outcome(summary, [])} — {'; '.join(reasons)}"

    def lookups_not_understood(self, api: TestClient) -> str:
        answers = {
            typed: api.get("/v1/search", params={"q": typed}, headers=self.key("counter")).status_code for typed in ("!!", "x" * 201)
        }
        api.get("/v1/audit", params={"limit": 1}, headers=self.key("admin"))
        api.get("/v1/changes", params={"limit": 1}, headers=self.key("integrator"))
        entries = api.get("/v1/audit", params={"limit": 6}, headers=self.key("admin")).json()["entries"]
        audited = ", ".join(f"{e['action']} {e['outcome']}" for e in reversed(entries[:5]))
        return f"'!!' {answers['!!']}, 201 characters {answers['x' * 201]}; audited: {audited}"

    def card_in_access_log(self) -> str:
        return self.access_log(path="/v1/cards/2905555555555", params={})

    # -- the table ----------------------------------------------------------------------------

    def prepare_customers(self) -> None:
        write_demo_data(self.folder / "demo", persons=300, seed=23)
        with RejectsReport(self.folder / "demo-rejects.jsonl") as report:
            Ingestion(self.client, self.names, report).run(SourceFiles.discover([self.folder / "demo"]))
        resolve_all(self.client, self.names, ResolutionConfig())

    def probes(self) -> list[Probe]:
        fresh = self.settings.model_copy(update={"index_prefix": f"{self.names.prefix}-fresh"})
        return [
            (
                "1. `updated_at` 1969, 600-byte id, among good lines",
                "those two rejected with a reason, the rest indexed",
                self.pre_1970_and_long_id,
            ),
            ("2. JSON nested 300 deep, `updated_at` 0001-01-01+01:00", "rejects, no traceback, neighbours indexed", self.deep_and_year_one),
            ("3. `rcu ingest .` where rejects files lie", "rcu's files skipped by name and identity", self.own_rejects_file),
            ("4a. deletion with the same `updated_at`", "deleted", self.same_time_deletion),
            (
                "4b. change with the same `updated_at`, in both orders",
                "same copy kept either way; the loser reported as a tie",
                self.same_time_change,
            ),
            ("4c. undated record changed, then deleted", "indexed, then deleted", self.undated_change),
            ("5a. file: deletion dated 2999-01-01", "rejected: too far in the future", self.future_in_file),
            ("5b. integrator key deletes `crm:…`; pushes 2999", "403 (not its source); 422", self.with_api(self.integrator_deletes_crm)),
            ("6. 360 view with a household", "every customer shown in the audit entry", self.with_api(self.household_audit)),
            ("7. POST bodies: depth 300, 1969, year 1, long id, 100 KB, 2 MB", "422 each, 413 for 2 MB", self.with_api(self.bad_bodies)),
            ("8a. UTF-8 CSV with BOM; JSONL starting with BOM", "indexed", self.boms),
            ("8b. three first ingests at once", "3 of 3 succeeded", self.racing_first_ingests),
            ("8c. JWT whose role claim is a list", "401", self.with_api(self.jwt_list_role)),
            ("8d. look-up before the first `rcu resolve`", "503, no customers yet", self.with_api(self.fresh_install, fresh)),
            ("R1. `rcu serve` without policy; demo policy on 0.0.0.0", "refused, saying how", self.serve_defaults),
            ("R2. headers of a search answer", "no-store, nosniff", self.with_api(self.headers)),
            ("R3. access log of `/v1/search?q=06…`", "route and status, no query", self.access_log),
            ("R4. search while the node is frozen (SIGSTOP)", "503 within ~2 s", self.with_api(self.hung_node)),
            ("R5. ingest while the node is unreachable for 45 s", "waits, then indexes everything", self.outage),
            (
                "R6. audit: nothing found, refused field, refused role, push",
                "each audited with its outcome",
                self.with_api(self.audit_misses),
            ),
            (
                "S9-1. consent dated 2999 / year 1 at +01:00 (API, file)",
                "422 each; the file line rejected, its neighbour indexed",
                self.with_api(self.future_consents),
            ),
            (
                "S9-2. ids with NUL / zero-width space; a name with a bidi override and stacked marks",
                "ids rejected with the character; the name stored as it shows",
                self.invisible_characters,
            ),
            (
                "S9-3. JSONL ended by lone CRs; Latin-1 CSV whose mapping says no encoding",
                "read record by record; the reject says what to set",
                self.readers,
            ),
            (
                "S9-4. look-ups '!!' and 201 characters; reading the audit trail and the change feed",
                "422 each, audited; the two reads audited",
                self.with_api(self.lookups_not_understood),
            ),
            ("S9-5. access log of `/v1/cards/2905…`", "route and status, no card number", self.card_in_access_log),
        ]

    def close(self) -> None:
        self.client.indices.delete(index=f"{self.names.prefix}*", ignore_unavailable=True, expand_wildcards="all")
        self.client.close()


def main() -> None:
    settings = ensure_node()
    with tempfile.TemporaryDirectory() as folder:
        probes = Probes(settings, Path(folder))
        try:
            probes.prepare_customers()
            rows = []
            for name, expected, run in probes.probes():
                try:
                    observed = run()
                except Exception as error:  # noqa: BLE001 - a probe that breaks is a finding, printed
                    observed = f"FAILED: {type(error).__name__}: {str(error)[:100]}"
                rows.append((name, expected, observed.replace("|", "/")))
                print(f"{name}: {observed}", flush=True)
        finally:
            probes.close()
    print("\n| probe | expected | observed |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
