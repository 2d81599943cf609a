"""Signed-in clients hammer a few pages while PostgreSQL restarts; the answers are counted before, during and
after the restart (bench/pg_restart.sh runs this against gunicorn; it is not a test).

    python bench/pg_restart_load.py --url http://127.0.0.1:8061 --restart "pg_ctlcluster 15 x restart" \
        --pg-port 5433 --label "health checks on"

Each request is counted by the moment it was sent: before the restart command started, during (until the
database accepts connections again), or after. With --between-requests the clients pause while the database
restarts and resume once it is back, so every worker's persistent connection is left broken by the restart
without a request noticing it during the outage. Prints a summary and appends it to --out (JSON lines).
"""

import argparse
import json
import re
import subprocess
import threading
import time
from collections import Counter

import requests

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ACCOUNTS = ["bantochuc", "canbo", "bithu", "bithu2", "dangvien", "danhgia"]
PAGES = ["/", "/organizations/", "/members/", "/members/me/", "/reviews/"]
PASSWORD = "demo12345"


def sign_in(base, username):
    session = requests.Session()
    page = session.get(base + "/accounts/login/", timeout=30)
    token = CSRF.search(page.text).group(1)
    answer = session.post(
        base + "/accounts/login/",
        {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": base + "/accounts/login/"},
        timeout=30,
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise SystemExit(f"{username} could not sign in: {answer.status_code}")
    return session


def hammer(base, session, pages, stop, log, pause, running):
    n = 0
    while not stop.is_set():
        if not running.wait(timeout=0.1):
            continue
        url = base + pages[n % len(pages)]
        n += 1
        sent = time.monotonic()
        try:
            outcome = session.get(url, timeout=30, allow_redirects=False).status_code
        except requests.RequestException as error:
            outcome = f"no answer ({type(error).__name__})"
        log.append((sent, outcome))
        time.sleep(pause)


def pg_ready(port):
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)], check=False).returncode == 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--restart", required=True, help="the command that restarts PostgreSQL")
    parser.add_argument("--pg-port", type=int, required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--before", type=float, default=8.0, help="seconds of load before the restart")
    parser.add_argument("--after", type=float, default=15.0, help="seconds of load once the database is back")
    parser.add_argument("--pause", type=float, default=0.05, help="seconds each client waits between requests")
    parser.add_argument("--between-requests", action="store_true", help="no request while the database restarts")
    parser.add_argument("--label", default="")
    parser.add_argument("--out", default="")
    args = parser.parse_args()

    sessions = [sign_in(args.url, ACCOUNTS[i % len(ACCOUNTS)]) for i in range(args.clients)]
    stop, running, log = threading.Event(), threading.Event(), []
    running.set()
    threads = [
        threading.Thread(
            target=hammer, args=(args.url, s, PAGES[i % 2 :] + PAGES[: i % 2], stop, log, args.pause, running)
        )
        for i, s in enumerate(sessions)
    ]
    for thread in threads:
        thread.start()
    time.sleep(args.before)
    if args.between_requests:
        running.clear()
        time.sleep(3)  # the requests in flight are answered
    restart_started = time.monotonic()
    subprocess.run(args.restart, shell=True, check=True, stdout=subprocess.DEVNULL)
    while not pg_ready(args.pg_port):
        time.sleep(0.05)
    back = time.monotonic()
    running.set()
    time.sleep(args.after)
    stop.set()
    for thread in threads:
        thread.join()

    phases = {"before": Counter(), "during": Counter(), "after": Counter()}
    for sent, outcome in log:
        phase = "before" if sent < restart_started else "during" if sent < back else "after"
        phases[phase][str(outcome)] += 1
    failed_after = sum(n for outcome, n in phases["after"].items() if outcome[:1] not in ("2", "3", "4"))
    summary = {
        "label": args.label + (", restart between requests" if args.between_requests else ", restart under load"),
        "clients": args.clients,
        "restart_seconds": round(back - restart_started, 2),
        **{phase: dict(sorted(counts.items())) for phase, counts in phases.items()},
        "errors_500_after_back": phases["after"].get("500", 0),
        "failed_after_back": failed_after,
    }
    print(json.dumps(summary, indent=2))
    if args.out:
        with open(args.out, "a") as out:
            out.write(json.dumps(summary) + "\n")


if __name__ == "__main__":
    main()
