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


@pytest.fixture
def trained(session, tmp_path, monkeypatch):
    """A small decoder ``dec`` of the simulated helmet (8 channels at 500 Hz, dataset ``ep``), trained in
    ``tmp_path``, which becomes the working folder."""
    from tests.helpers import helmet_recording

    monkeypatch.chdir(tmp_path)
    helmet_recording(tmp_path / "train.h5", 40, channels=8, seed=3)
    assert session.execute("dataset epochs train.h5:/streams/meg --window -100ms:300ms --baseline -100ms:0s --name ep")
    assert session.execute("train ep --epochs 3 --steps 10 --hidden 32 --name dec --seed 1")
    return session.models["dec"]
