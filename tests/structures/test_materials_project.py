"""The Materials Project source without the Materials Project: a stored response parsed into labelled structures
with their MP ids, the cache that makes later runs offline, and the one-line errors (no client, no key, no network).

Nothing here leaves the machine: the client is a fake serving a response stored in the test, and the reachability
check talks to a heartbeat server on 127.0.0.1 or to a closed local port.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest

from xrdnet.crystal import CRYSTAL_SYSTEMS
from xrdnet.data.dataset import build_or_load
from xrdnet.structures.materials_project import MaterialsProjectStructures, cache_path
from xrdnet.structures.mp_client import INSTALL_HINT, MaterialsProjectError, MaterialsProjectQuery, client_class
from xrdnet.xrd.peaks import XRDSimulator

CLOSED_PORT = "http://127.0.0.1:9/"  # the discard port: nothing listens, so a connection is refused at once


class FakeMPRester:
    """Stands in for mp_api.client.MPRester: serves the stored response and records how it was called."""

    calls: list[dict] = []
    documents: list[dict] = []

    def __init__(self, api_key, endpoint, use_document_model=True):
        FakeMPRester.calls.append({"api_key": api_key, "endpoint": endpoint})
        self.materials = SimpleNamespace(summary=SimpleNamespace(search=self.search))

    def search(self, **kwargs):
        FakeMPRester.calls.append({"search": kwargs})
        return FakeMPRester.documents


def refuse_client(**kwargs):
    raise AssertionError("the client must not be built")


@pytest.fixture
def heartbeat_server():
    """An MP-like endpoint on 127.0.0.1 that answers /heartbeat only (the search goes to the fake client)."""

    class Heartbeat(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"db_version": "2026.01.01-test"}).encode()
            self.send_response(200 if self.path.endswith("/heartbeat") else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Heartbeat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture
def no_key(monkeypatch):
    from pymatgen.core import SETTINGS

    monkeypatch.delenv("MP_API_KEY", raising=False)
    monkeypatch.delitem(SETTINGS, "PMG_MAPI_KEY", raising=False)


def test_a_stored_response_becomes_labelled_structures_with_mp_ids_and_is_cached(tmp_path, heartbeat_server, no_key,
                                                                                  mp_documents):
    FakeMPRester.calls, FakeMPRester.documents = [], mp_documents
    source = MaterialsProjectStructures(tmp_path, chemsys="Si-O", energy_above_hull_max=0.05, nsites_max=40,
                                        num_structures=3, api_key="test-key", endpoint=heartbeat_server,
                                        client_factory=FakeMPRester)
    assert FakeMPRester.calls[0] == {"api_key": "test-key", "endpoint": heartbeat_server}
    search = FakeMPRester.calls[1]["search"]
    assert search["chemsys"] == ["Si-O"] and search["energy_above_hull"] == (0.0, 0.05) and search["num_sites"] == (1, 40)
    assert search["chunk_size"] == 3 and search["num_chunks"] == 1 and "structure" in search["fields"]

    assert source.material_ids == ["mp-149", "mp-1000", "mp-2657"]  # by number, not as text
    items = [source.get(i) for i in range(len(source))]
    assert [CRYSTAL_SYSTEMS[item.label] for item in items] == ["cubic", "hexagonal", "tetragonal"]
    assert [item.space_group for item in items] == [227, 194, 136]
    assert [item.name for item in items] == ["mp-149-Si", "mp-1000-Mg", "mp-2657-TiO2"]
    assert [item.meta["system_agrees_with_mp"] for item in items] == [True, False, True]
    assert items[2].meta["energy_above_hull"] == 0.01
    described = source.describe()
    assert described["material_ids"] == source.material_ids and described["database_version"] == "2026.01.01-test"
    assert "api_key" not in json.dumps(described) and "test-key" not in json.dumps(described)

    # the second use reads the cache: no key, no client, no network
    again = MaterialsProjectStructures(tmp_path, chemsys="Si-O", energy_above_hull_max=0.05, nsites_max=40,
                                       num_structures=3, endpoint=heartbeat_server, client_factory=refuse_client)
    assert again.material_ids == source.material_ids and again.describe() == described

    # and it builds a dataset whose manifest lists the MP ids
    dataset = build_or_load(tmp_path, again, XRDSimulator(), num_workers=1, progress=False)
    assert dataset.manifest["source"]["material_ids"] == source.material_ids
    assert list(dataset.names) == ["mp-149-Si", "mp-1000-Mg", "mp-2657-TiO2"]


def test_another_query_is_another_cache_file(tmp_path):
    one = MaterialsProjectQuery.create(chemsys="Si-O", num_structures=10)
    assert MaterialsProjectQuery.create(chemsys=["Si-O"], num_structures="10") == one  # config strings and lists alike
    other = MaterialsProjectQuery.create(chemsys="Si-O", num_structures=20)
    endpoint = "https://api.materialsproject.org/"
    assert cache_path(tmp_path, one, endpoint) != cache_path(tmp_path, other, endpoint)
    assert cache_path(tmp_path, one, endpoint) != cache_path(tmp_path, one, "http://localhost:8000/")


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_without_a_key_it_stops_with_one_line_before_anything_else(tmp_path, no_key):
    with pytest.raises(MaterialsProjectError) as error:
        MaterialsProjectStructures(tmp_path, chemsys="Si", endpoint=CLOSED_PORT, client_factory=refuse_client)
    assert one_line(error).startswith("materials_project: no API key: set MP_API_KEY")
    assert not (tmp_path / "materials_project").exists()


def test_without_the_network_it_stops_with_one_line(tmp_path, no_key):
    with pytest.raises(MaterialsProjectError) as error:
        MaterialsProjectStructures(tmp_path, chemsys="Si", api_key="test-key", endpoint=CLOSED_PORT, timeout_s=2,
                                   client_factory=refuse_client)
    message = one_line(error)
    assert message.startswith(f"materials_project: cannot reach {CLOSED_PORT}heartbeat within 2 s (ConnectionError)")
    assert not (tmp_path / "materials_project").exists()


def test_a_refused_query_is_one_line(tmp_path, heartbeat_server):
    class Refusing(FakeMPRester):
        def search(self, **kwargs):
            raise RuntimeError("REST query returned with error status code 401\nContent: invalid API key")

    with pytest.raises(MaterialsProjectError) as error:
        MaterialsProjectStructures(tmp_path, chemsys="Si", api_key="bad", endpoint=heartbeat_server, client_factory=Refusing)
    assert one_line(error) == (f"materials_project: query at {heartbeat_server} failed: "
                               f"RuntimeError: REST query returned with error status code 401")
    assert not list((tmp_path / "materials_project").glob("*.json.gz"))


def test_without_the_extra_it_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "mp_api", None)  # makes `import mp_api...` fail as if it were not installed
    monkeypatch.setitem(sys.modules, "mp_api.client", None)
    with pytest.raises(MaterialsProjectError) as error:
        client_class()
    assert one_line(error) == f"materials_project: the Materials Project client is not installed: {INSTALL_HINT}"
    with pytest.raises(MaterialsProjectError, match="pip install 'xrdnet\\[mp\\]'"):
        MaterialsProjectStructures(tmp_path, chemsys="Si", api_key="test-key", endpoint=CLOSED_PORT)


def test_the_entry_point_prints_the_one_line_and_exits_2(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("MP_API_KEY", "PMG_MAPI_KEY")}
    result = subprocess.run(
        [sys.executable, "-m", "xrdnet.build_data", "data/source=materials_project", "data.real_source=null",
         f"paths.data_dir={tmp_path / 'data'}", f"hydra.run.dir={tmp_path / 'run'}",
         f"data.source.endpoint={CLOSED_PORT}", "data.source.timeout_s=2"],
        cwd=tmp_path, env={**env, "PYTHONWARNINGS": "ignore"}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    # no key here, or no client, or (with a key in pymatgen's settings) no server at the closed port: one line each
    assert len(lines) == 1 and lines[0].startswith("xrdnet-data: materials_project: "), result.stderr[-2000:]
    assert not (tmp_path / "data" / "materials_project").exists()


def test_eval_reports_on_a_materials_project_set(tmp_path, store_mp_download, no_key):
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    from xrdnet.config import CONFIG_DIR
    from xrdnet.eval import real_sources

    endpoint = "https://api.materialsproject.org/"
    store_mp_download(tmp_path, endpoint, chemsys="Si-O", num_structures=3)
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("eval", overrides=["aflow_prototypes=false", "materials_project={chemsys: Si-O, num_structures: 3}",
                                         f"paths.data_dir={tmp_path}"])
    sources = real_sources(cfg)
    assert list(sources) == ["materials_project"]
    assert sources["materials_project"].material_ids == ["mp-149", "mp-1000", "mp-2657"]
    assert sources["materials_project"].symprec == cfg.symprec
