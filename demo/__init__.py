"""The demo: a city party organisation shaped like Thành ủy Vĩnh Yên, its members, a year of reviews in
progress and one account per role. For development and the tests only: config/settings.py installs
the app when DEBUG is on or under pytest (DJANGO_DEMO overrides), never in production.

It sits above every other app: it imports them all, and none of them imports it. It has no models.

- catalogue: the data files of demo/data/ (places, cells, names, wording) read into specs;
- plan: the tree and the cell sizes for a member count, pure Python;
- people, records, accounts: the members, their year records, the accounts and roles;
- loader: writes a plan to the database, or deletes it;
- reviews: last year's review published, this year's in progress;
- committee: a committee of any size in bulk, for the tests and the benchmark;
- management commands seed_demo and seed_reviews.
"""
