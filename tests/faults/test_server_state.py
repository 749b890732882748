"""A Spark server killed -9 leaves its state file behind, and its process id may go to another
process (ids are reused within minutes on a busy machine). Stopping or finding the warehouse's
server must then leave that process alone.
"""

import json
import subprocess
import sys

from spark_jobs.server import ServerConfig, is_running, stop_server


def test_a_stale_server_state_never_signals_the_process_that_reused_its_id(tmp_path, recorder, request):
    cfg = ServerConfig(warehouse=tmp_path / "warehouse", port=1)
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
    try:
        cfg.state_dir.mkdir(parents=True)
        (cfg.state_dir / "server.json").write_text(json.dumps({"pid": stranger.pid, "port": cfg.port}))
        with recorder.fault(request.node.name, "a crashed server's state file naming a live process",
                            "rft spark stop / ensure_server"):
            assert not is_running(cfg)
            assert stop_server(cfg) is False
            assert stranger.poll() is None  # still running: not signalled
            assert not (cfg.state_dir / "server.json").exists()
    finally:
        stranger.kill()
        stranger.wait()
