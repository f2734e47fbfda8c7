"""Next best action: rules over a customer's profile (search.segments) proposing actions, the
outcomes agents record, and acceptance rates for marketing."""
