from __future__ import annotations

import subprocess
import sys


def test_demo_runs_and_exits_zero() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "flux_magic", "demo"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "12 of 12 sent" in out
    assert "The value is -2" in out
    assert "['tag', '_sent']" in out
    assert "example1" in out
    assert "example2" in out
    assert "the receiver got 12 requests" in out


def test_demo_url_option_sends_elsewhere() -> None:
    import flux_magic

    with flux_magic.Receiver(status=204) as rx:
        proc = subprocess.run(
            [sys.executable, "-m", "flux_magic", "demo", "--url", rx.url],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert rx.count == 12
    # 204 is not "sent" for Flux's http.endpoint: the demo says so and exits non-zero
    assert proc.returncode == 1
    assert "0 of 12 sent" in proc.stdout
