"""Nurture: sequences a lead is taken through, the scheduler that runs their steps, follow-ups.

- `service`: enrol, pause, resume, exit, unsubscribe; opens and clicks (one entry point each).
- `scheduler`: `run_due_steps` (each step once per enrolment, SKIP LOCKED on PostgreSQL) and
  `sweep_exits` (leads that converted, were disqualified, replied or grew hot leave their sequence).
- `follow_ups`: the workspace's follow-up tasks and the speed-to-lead alert.
- `consent`: `may_email(lead)`, the one place that decides whether a lead gets nurture email.
- `links`: signed unsubscribe, open and click links; `mail`: the email itself.
"""
