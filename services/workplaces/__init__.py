"""What a user's home shows: the day's work each panel of the home page computes
(patients found, today's vouchers, referrals waiting, contracts ending, a branch's
figures, a manager's queue, users to fix). Every query reads through `scoped()`;
the panels that call these functions are declared in `views/workplaces/panels.py`."""
