"""rcu's one configuration: environment variables prefixed RCU_ (OPENSEARCH_URL also unprefixed)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob rcu reads from its environment, with the defaults a developer machine needs."""

    # A variable set to nothing (`OPENSEARCH_URL= make test`) means its default, as if unset.
    model_config = SettingsConfigDict(env_prefix="RCU_", extra="ignore", populate_by_name=True, env_ignore_empty=True)

    opensearch_url: str = Field(
        default="http://127.0.0.1:9200",
        validation_alias=AliasChoices("OPENSEARCH_URL", "RCU_OPENSEARCH_URL"),
        description=(
            "The cluster rcu talks to: one URL, or several separated by commas (the nodes of a cluster, so a node "
            "that goes is not the client's only way in); the managed local node listens on the first one's port."
        ),
    )

    @field_validator("opensearch_url")
    @classmethod
    def _names_a_url(cls, value: str) -> str:
        if not any(url.strip() for url in value.split(",")):
            raise ValueError("OPENSEARCH_URL names no URL (expected http://host:port, or several separated by commas)")
        return value

    opensearch_user: str | None = None
    opensearch_password: SecretStr | None = None
    opensearch_verify_certs: bool = True
    opensearch_ca_certs: Path | None = Field(default=None, description="CA bundle that signed the cluster's HTTP certificates.")
    opensearch_client_cert: Path | None = Field(default=None, description="Client certificate (PEM) for clusters that ask for one.")
    opensearch_client_key: Path | None = Field(default=None, description="The client certificate's private key (PEM).")
    opensearch_timeout_s: float = Field(default=30.0, gt=0, description="Per-request deadline of the CLI, ingests and record pushes.")
    api_opensearch_timeout_s: float = Field(
        default=2.0,
        gt=0,
        description="Per-request deadline of the API's interactive look-ups (search, card, 360 view): a hung node is a 503 after it.",
    )
    ingest_retry_s: float = Field(
        default=180.0,
        ge=0,
        description="How long an ingest keeps retrying while OpenSearch is unreachable or busy (a node restart takes about 40 s).",
    )
    api_opensearch_connections: int = Field(
        default=32,
        ge=1,
        le=1024,
        description="Connections the API keeps open to OpenSearch: more than the searches in flight, or they queue inside the API.",
    )

    home: Path = Field(
        default=Path(".rcu"),
        description="Data folder of the managed node: distribution, data, logs, pid (git-ignored).",
    )
    node_heap: str = Field(default="2g", description="JVM heap of the managed node (-Xms and -Xmx).")
    node_start_timeout_s: float = 180.0
    test_cluster_port: int = Field(
        default=9221,
        description="First HTTP port of the three-node cluster the cluster tests start (tests/provisioning/test_cluster.py).",
    )
    snapshot_path: Path | None = Field(
        default=None,
        description="Folder of the filesystem snapshot repository (`path.repo` of every managed node); RCU_HOME/snapshots when unset.",
    )
    snapshot_repository: str = Field(default="rcu-backups", description="Name of the snapshot repository `rcu snapshot` registers.")
    node_system_user: str = Field(
        default="rcu-opensearch",
        description="OpenSearch refuses to run as root; when rcu runs as root it starts the node as this user.",
    )
    java_home: Path | None = Field(default=None, description="A JDK for the managed node; found automatically when unset.")
    opensearch_java_home: Path | None = Field(
        default=None, validation_alias="OPENSEARCH_JAVA_HOME", description="OpenSearch's own JDK variable, tried after RCU_JAVA_HOME."
    )
    system_java_home: Path | None = Field(default=None, validation_alias="JAVA_HOME", description="The machine's JAVA_HOME, tried next.")

    index_prefix: str = Field(default="rcu", description="Every index and alias rcu owns starts with this.")
    resolution_config: Path | None = Field(default=None, description="TOML file overriding resolution defaults (search/resolve/config.py).")
    records_shards: int | None = Field(
        default=None,
        ge=1,
        description="Primary shards of the records index; sized from RCU_EXPECTED_RECORDS when unset (search/sizing.py).",
    )
    customers_shards: int | None = Field(
        default=None, ge=1, description="Primary shards of the customers index; sized from RCU_EXPECTED_RECORDS when unset."
    )
    index_replicas: int = Field(
        default=0,
        ge=0,
        description="Replicas of every index rcu creates: 0 on one node, 1 on a cluster so that losing a node loses no data.",
    )
    expected_records: int = Field(
        default=0, ge=0, description="Source records this deployment expects to hold; sizes primary shards (search/sizing.py)."
    )
    shard_target_gb: float = Field(
        default=20.0,
        gt=0,
        description="Largest primary shard wanted when sizing from RCU_EXPECTED_RECORDS (OpenSearch advises 10–50 GB).",
    )
    ingest_threads: int = Field(default=2, ge=1, le=16, description="Bulk requests in flight during an ingest.")
    resolve_spool_dir: Path | None = Field(
        default=None,
        description="Where a partitioned full run spools records on disk (search.resolve.spool); the system's temporary folder when unset.",
    )

    policy: Path | None = Field(
        default=None, description="Access policy file (roles, fields, sources, API key hashes); `rcu serve` refuses to start without one."
    )
    segments: Path | None = Field(
        default=None,
        description="Segment definitions file (TOML, beside the access policy), read by `rcu segments`; api/demo_segments.toml documents it.",
    )
    actions: Path | None = Field(
        default=None,
        description="Next-best-action rules file (TOML), reloaded by the API when it changes; api/demo_actions.toml documents it.",
    )
    jwt_sources_claim: str = Field(default="rcu_sources", description="The JWT claim listing the sources a token may write.")
    future_margin_s: float = Field(
        default=86400.0, ge=0, description="An updated_at later than now plus this is refused (files and API): it would win every update."
    )
    api_max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="Larger request bodies are refused (413) unread.")
    access_log_queries: bool = Field(
        default=False, description="Write query strings in the access log (they hold what agents type: names, phones, e-mails)."
    )
    jwt_secret: SecretStr | None = Field(
        default=None, description="Accept OAuth2 bearer JWTs signed with this key (HS256) besides API keys."
    )
    jwt_algorithms: list[str] = Field(default=["HS256"])
    jwt_audience: str | None = None
    jwt_role_claim: str = Field(default="rcu_role", description="The JWT claim naming the caller's role in the policy.")
    jwt_shop_claim: str = Field(default="rcu_shop", description="The JWT claim naming the agent's shop (its customers rank first).")

    suppression_key: SecretStr | None = Field(
        default=None,
        description="HMAC key of the suppression list (erased identifiers are kept only as keyed hashes); required to erase.",
    )
    expunge_lease_wait_s: float = Field(
        default=180.0,
        ge=0,
        description="How long `rcu subject erase --expunge` waits for every shard's retention leases to pass the erasure "
        "(renewed about every 30 s; a replica offline holds them until the lease expires, 12 h) before reporting what is still held.",
    )
    changes_gap_timeout_s: float = Field(
        default=60.0,
        gt=0,
        description="A change feed reader waits at a missing sequence number (a writer between reserving and writing) "
        "until a later change is this old; then the number is taken as abandoned.",
    )
    webhook_secrets: dict[str, SecretStr] = Field(
        default_factory=dict,
        description='Per webhook subscriber (named in the policy\'s [webhooks.<name>]), the secret signing its payloads: JSON, {"erp": "…"}.',
    )
    webhook_batch: int = Field(default=500, ge=1, le=5000, description="Changes per webhook delivery at most.")
    webhook_timeout_s: float = Field(default=10.0, gt=0, description="How long a webhook receiver has to answer a delivery.")
    webhook_max_attempts: int = Field(
        default=8, ge=1, description="Failed deliveries of one batch before it becomes a dead letter and the subscriber is parked."
    )
    webhook_backoff_s: float = Field(
        default=2.0, ge=0, description="Wait after a batch's first failed delivery; doubles with each failure."
    )
    webhook_backoff_max_s: float = Field(default=600.0, ge=0, description="The longest wait between two deliveries of a failing batch.")
    webhook_poll_s: float = Field(default=1.0, gt=0, description="How often `rcu webhooks run` looks for new changes when idle.")
    misuse_delay_s: float = Field(
        default=2.0, ge=0, description="How long each answer to a key past its role's max_customers_per_hour waits."
    )
    warm_up_rounds: int = Field(
        default=200,
        ge=0,
        description="Phantom 360 views and look-ups (no customer read) `rcu serve` sends when it starts and after the node restarts, "
        "so the first agents do not pay the JVM's warm-up (search.warm_up); 0: none.",
    )
    warm_up_check_s: float = Field(
        default=30.0, gt=0, description="How often `rcu serve` asks whether the node restarted (search.warm_up)."
    )
    misuse_refresh_s: float = Field(
        default=60.0,
        gt=0,
        description="How often each API process reads from the audit trail the distinct customers every key read in the last hour (search.misuse).",
    )
    retention_days: int = Field(
        default=3 * 365,
        ge=1,
        description="A prospect with no record updated and no event for this long is erased by `rcu retention --apply` "
        "(CNIL: 3 years after the last contact for prospects).",
    )
    customer_retention_days: int = Field(
        default=5 * 365,
        ge=1,
        description="A customer (not a prospect: customer_event_types, customer_sources) with no record updated and no event "
        "for this long is erased by `rcu retention --apply` (5 years: the civil limitation period, Code civil art. 2224, "
        "which the CNIL's guidance lets a company keep a former customer's data for as evidence).",
    )
    customer_event_types: list[str] = Field(
        default=["purchase", "web_order", "subscription"],
        description="Events that make a person a customer rather than a prospect for retention: a purchase or a contract.",
    )
    customer_sources: list[str] = Field(
        default=[],
        description="Sources (shell patterns: `billing`, `loyalty_*`) whose records are of customers: a person with a record "
        "from one is a customer for retention whatever the events say. Empty: only events decide (customer_event_types, kept "
        "for customer_retention_days).",
    )
    audit_retention_days: int = Field(
        default=365, ge=1, description="Audit entries older than this are aged out by `rcu retention --apply`."
    )
    audit_journal_path: Path | None = Field(
        default=None,
        description="Folder of the API's local audit journal (entries are fsynced there before an answer leaves, then shipped "
        "to the audit index); RCU_HOME/audit-journal/<index prefix> when unset. Holds personal data until shipped: a local disk, "
        "readable by rcu only.",
    )
    audit_journal_segment_bytes: int = Field(
        default=16 * 1024 * 1024, ge=4096, description="A journal segment is closed past this size, and deleted once shipped."
    )
    audit_ship_batch_bytes: int = Field(default=4 * 1024 * 1024, ge=4096, description="Journal bytes per bulk request to the audit index.")
    audit_ship_interval_s: float = Field(
        default=1.0,
        ge=0,
        description="Least time between two shipments of the journal while look-ups keep coming: how far behind the audit index may be.",
    )
    audit_ship_retry_s: float = Field(default=5.0, gt=0, description="Wait after a shipment the audit index refused or did not answer.")
    changes_retention_days: int = Field(
        default=90, ge=1, description="Change feed entries older than this are aged out by `rcu retention --apply`."
    )
    erasure_notice_days: float = Field(
        default=30.0,
        gt=0,
        description="How long an `erased` change keeps the erased records' keys (source:source_id) for the source systems "
        "(GDPR art. 19; one month, art. 12(3)); then no reader gets them and `rcu retention --apply` drops them.",
    )
    events_retention_months: int = Field(
        default=36,
        ge=1,
        description="Months of interactions kept: older events are deleted by `rcu retention --apply` (but for "
        "customer_event_types, kept for customer_retention_days), and older events are refused at ingest.",
    )
    events_index_period: Literal["year", "month"] = Field(
        default="year",
        description="How much time one events index holds. Every read of a customer's events searches every index of the "
        "family: a year each keeps that to a few (monthly indices cost 5 to 10 times more per 360 view on a small node, "
        "bench/RESULTS.md); months suit volumes where a year would not fit in a few shards.",
    )
    events_holding_attributes: list[str] = Field(
        default=["offers", "offres", "contracts", "contrats"],
        description="Source record attributes listing the offers a customer holds (a list, or names separated by , or ;).",
    )

    @property
    def suppression_key_bytes(self) -> bytes | None:
        return self.suppression_key.get_secret_value().encode() if self.suppression_key else None

    @property
    def rejects_folder(self) -> Path:
        """Where `rcu ingest` writes its dated rejects reports unless told otherwise."""
        return self.home / "rejects"

    @property
    def audit_journal_folder(self) -> Path:
        """The audit journal's folder, one per index prefix (APIs over other indices keep theirs apart)."""
        return self.audit_journal_path or self.home / "audit-journal" / self.index_prefix

    @property
    def environment_java_homes(self) -> tuple[Path, ...]:
        return tuple(home for home in (self.opensearch_java_home, self.system_java_home) if home)

    @property
    def snapshot_location(self) -> Path:
        """The snapshot repository's folder, absolute."""
        return (self.snapshot_path or self.home / "snapshots").resolve()

    @property
    def opensearch_urls(self) -> list[str]:
        """Every URL of OPENSEARCH_URL, in order."""
        return [url.strip() for url in self.opensearch_url.split(",") if url.strip()]

    @property
    def opensearch_port(self) -> int:
        """The first URL's port: where the managed node, or a managed cluster's first node, listens."""
        parts = urlsplit(self.opensearch_urls[0])
        if parts.port:
            return parts.port
        return 443 if parts.scheme == "https" else 9200

    @property
    def opensearch_host(self) -> str:
        return urlsplit(self.opensearch_urls[0]).hostname or "127.0.0.1"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
