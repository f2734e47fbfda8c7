"""The customer's rights (GDPR art. 7, 15–21): consent, access and portability, rectification,
erasure with a suppression list, retention. Everything here talks to OpenSearch through `search`."""
