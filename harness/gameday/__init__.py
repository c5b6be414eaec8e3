"""Game days: a control desk for live faults while steady load runs, with a safe stop and a timeline.

    desk.py        the commands an operator gives (add, update, remove, link down/up, users,
                   annotate, stop all, next) and the queue that hands them to the session's thread
    requests.py    the control API's request bodies, validated with the catalogue's own fault model
    registry.py    the faults on now: ids, their toxics and their automatic revert deadlines (pure)
    script.py      ``--script EXPERIMENT``: that experiment's faults, one step per "next" (pure)
    slo_state.py   live SLO state per tier from the live windows, changes debounced (pure)
    events.py      the game day's journal events, each with a ``marker`` for the report's timeline
    state.py       what the page and ``GET /api/state`` show, built from the events
    actions.py     what the desk's commands (and the session's own safety) change: faults, reverts, users
    session.py     the session: the run's rig up, windows judged, the desk served, faults reverted on exit
    console.py     the session on the terminal, one line per marker and per window
    server.py      the control API and page (FastAPI in a thread, 127.0.0.1 unless told otherwise)
    client.py      the CLI's side of the API (``harness fault add …``)
    users_file.py  the users the operator wants, handed to Locust's shape through a file
    page.html      the control page, self-contained (no CDN)

Nothing here is imported by ``harness.gameday`` itself: Locust's processes import
``users_file`` and must not pull in the web server.
"""
