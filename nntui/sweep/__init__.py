"""Sweeps: many training runs at once, on worker processes here or on a Dask cluster.

A layer between the data and the user interfaces. `grid` turns what a person
typed into a list of runs; `task` is what a Dask worker executes for one run;
`runner` drives a cluster from the client and turns what the workers report
into `events`; `summary` groups the finished runs by configuration; `manifest`
keeps a sweep's list of runs next to the runs store so it can be continued.

Dask is imported only inside `runner` and `task`, and only when a sweep runs, so
that ``nntui`` and ``nntui train`` never pay for it. No terminal library here.
"""
