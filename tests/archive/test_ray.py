"""The Ray executor on a local Ray instance (loopback only) that this test starts and stops.

The job runs as `multitrans batch --executor ray --address ...`: a separate driver joins
the instance the way a job joins an existing cluster.  Its files and its translation
memory must be those of the local executor's clean run.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

# Ray binds to the machine's outward address unless told the node is a single-machine one;
# this must be set before Ray is imported (and the job's own driver inherits it).
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'multitrans[ray]')")

from conftest import batch_succeeded, output_files as files, run_batch_cli  # noqa: E402

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("apertium") is None, reason="Apertium is not installed")]


def memory(out: Path) -> dict[bytes, tuple]:
    with sqlite3.connect(out / ".multitrans" / "memory.sqlite") as db:
        return {row[0]: row[1:] for row in db.execute(
            "SELECT key, engine, model, revision, runtime, quantization, decoding, src, tgt, source, translation, flags, "
            "attempt FROM segments")}


@pytest.fixture
def local_ray():
    """A Ray instance on 127.0.0.1 with 2 CPUs, no dashboard; stopped afterwards."""
    context = ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield context
    finally:
        ray.shutdown()


def test_ray_executor_writes_what_the_local_executor_writes(norwegian_archive, norwegian_batch, local_ray, tmp_path):
    clean, clean_summary = norwegian_batch
    address = local_ray.address_info["gcs_address"]
    assert address.startswith("127.0.0.1:")
    out = tmp_path / "out"
    code, summary, stderr = run_batch_cli(str(norwegian_archive), "--to", "nn,da,sv", "--out", str(out),
                                          "--executor", "ray", "--address", address)
    assert batch_succeeded(code, summary), stderr
    assert summary["executor"] == "ray" and summary["workers"] == 2  # one actor per CPU slot of the one node
    assert summary["done"] == 200 and summary["failed"] == []
    print(f"\nRay executor, 200 articles: {summary['seconds']:.1f} s "
          f"(local executor: {clean_summary['seconds']:.1f} s)")
    assert files(out) == files(clean)
    assert memory(out) == memory(clean)
    assert (out / ".multitrans" / "manifest.json").read_bytes() == (clean / ".multitrans" / "manifest.json").read_bytes()
