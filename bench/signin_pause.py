"""How long a rightful member, paused by wrong passwords, waits before signing in again: by the cool-off
alone, and when the cell secretary lifts the pause. Against a running server (bench/signin_pause.sh
starts gunicorn with production settings on PostgreSQL and the demo accounts), through HTTP only.

    python bench/signin_pause.py http://127.0.0.1:8060 CELL_CODE [poll seconds]

Writes bench/signin-pause-results.json. Bounded: it gives up 20 minutes after the pause began.
"""

import json
import re
import sys
import time

import requests

MEMBER, SECRETARY, PASSWORD = "dangvien", "bithu", "demo12345"
GIVE_UP = 20 * 60


def sign_in(base, username, password, session=None):
    session = session or requests.Session()
    session.get(f"{base}/accounts/login/")
    response = session.post(
        f"{base}/accounts/login/",
        {"username": username, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
    )
    return session, response


def pause(base):
    """Five wrong passwords; the time the fifth was answered (the pause begins)."""
    for n in range(5):
        _session, response = sign_in(base, MEMBER, f"wrong {n}")
    assert response.status_code == 429, response.status_code
    return time.monotonic()


def by_cool_off(base, poll):
    began = pause(base)
    tries = 0
    while time.monotonic() - began < GIVE_UP:
        time.sleep(poll)
        tries += 1
        _session, response = sign_in(base, MEMBER, PASSWORD)
        if response.status_code == 302:
            return {"seconds": round(time.monotonic() - began, 1), "refused_tries_meanwhile": tries - 1}
        assert response.status_code == 429, response.status_code
    return {"seconds": None, "refused_tries_meanwhile": tries}


def by_secretary(base, cell):
    began = pause(base)
    secretary, response = sign_in(base, SECRETARY, PASSWORD)
    assert response.status_code == 302, response.status_code
    page = secretary.get(f"{base}/accounts/org/{cell}/", params={"q": ""}).text
    action = re.search(r'action="(/accounts/member/[0-9a-f-]+/unlock/)"', page).group(1)
    clicked = time.monotonic()
    response = secretary.post(
        f"{base}{action}",
        {"csrfmiddlewaretoken": secretary.cookies["csrftoken"]},
        headers={"Referer": f"{base}/accounts/org/{cell}/"},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.status_code
    _session, response = sign_in(base, MEMBER, PASSWORD)
    assert response.status_code == 302, response.status_code
    done = time.monotonic()
    return {"seconds_from_click": round(done - clicked, 2), "seconds_from_pause": round(done - began, 2)}


def main():
    base, cell = sys.argv[1], sys.argv[2]
    poll = float(sys.argv[3]) if len(sys.argv) > 3 else 10
    results = {"secretary_lifts_the_pause": by_secretary(base, cell), "poll_seconds": poll}
    print(json.dumps(results))
    results["cool_off"] = by_cool_off(base, poll)
    print(json.dumps(results, indent=2))
    json.dump(results, open("bench/signin-pause-results.json", "w"), indent=2)


if __name__ == "__main__":
    main()
