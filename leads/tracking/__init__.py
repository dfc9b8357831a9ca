"""Public doors of nurture email (no login): one-click unsubscribe, the open pixel and the click redirect."""
