"""Ad platforms: parsing their webhooks, fetching their leads, mapping their fields to ours.

The doors (leads/api/hooks.py, leads/tasks.py) call `service`; every lead goes through
leads.capture.service like a website form's.
"""
