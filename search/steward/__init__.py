"""The data steward's workbench: decisions (same person, different people, split, detach) that every
later resolution respects, the review queue, and what the decisions say of the automatic matcher."""
