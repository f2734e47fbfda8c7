# OpenSearch for rcu on machines with a Docker engine: the official image, security plugin removed
# (rcu's local node has none either; put TLS and users in front in production), and the two analysis
# plugins rcu's mappings use.
ARG OPENSEARCH_VERSION
FROM opensearchproject/opensearch:${OPENSEARCH_VERSION}
RUN /usr/share/opensearch/bin/opensearch-plugin remove opensearch-security \
 && /usr/share/opensearch/bin/opensearch-plugin install --batch analysis-phonetic analysis-icu \
 && mkdir -p /usr/share/opensearch/snapshots
