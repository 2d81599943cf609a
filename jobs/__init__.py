"""Long work in the background, with its progress: a `Job` per piece of work (opening a period, the
year-end export), run by a worker of django-tasks' database backend (`manage.py db_worker`).

The app knows how to run, watch, cancel and recover a job, not what the work is: the apps above it
register their kinds of work (`jobs.registry.register`; the reviews' in `assessments/background.py`)."""
