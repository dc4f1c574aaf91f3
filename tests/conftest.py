"""Test set-up: machine-only LSL discovery, a private neuroshell home, one torch thread."""

import os
from pathlib import Path

# liblsl reads this when pylsl is first imported: discovery must never leave this machine.
LSL_CONFIG = Path(__file__).with_name("lsl_api.cfg")
os.environ["LSLAPICFG"] = str(LSL_CONFIG)

import pytest  # noqa: E402
from loguru import logger  # noqa: E402

# Sessions log to their own files; keep loguru's default stderr handler out of test output.
logger.remove()


@pytest.fixture(autouse=True)
def neuroshell_home(tmp_path_factory, monkeypatch) -> Path:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("NEUROSHELL_HOME", str(home))
    monkeypatch.setenv("LSLAPICFG", str(LSL_CONFIG))
    return home


@pytest.fixture
def session(neuroshell_home):
    from neuroshell.sessions import Session
    from tests.helpers import RecordingUI

    ui = RecordingUI()
    session = Session(ui=ui, home=neuroshell_home)
    yield session
    session.close()
