"""`make bench`: findsvc against a naive reference and the transport ceiling, side by side.

One module a job: scenarios.py (what runs), targets.py (what we aim for, as data), servers.py
(seeding the private MariaDB and starting the servers), load.py and open_loop.py (the load
generators), run.py (the closed-loop run), overload.py (`make bench-overload`), report.py (the
tables, and redrawing from the JSON) and plot.py (the pictures); the servers compared with
findsvc are the *_server.py modules. bench may import findsvc, the generated code and the shared
development package; findsvc and the tests never import bench.
"""
