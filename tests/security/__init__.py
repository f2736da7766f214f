"""The attack corpus of issue 11: each test is one attack, checked from the attacker's side."""
